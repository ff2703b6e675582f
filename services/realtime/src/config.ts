import { baseConfigSchema, envInt, loadConfig } from '@rallyforge/service-kit';
import { z } from 'zod';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_MAX_CONNECTIONS_PER_USER } from './realtime.constants';

/** Realtime keeps no state of its own: no DATABASE_URL. */
export const realtimeConfigSchema = baseConfigSchema.omit({ DATABASE_URL: true }).extend({
  /** Live connections one user may hold at once, across all realtime instances (tabs, devices). */
  REALTIME_MAX_CONNECTIONS_PER_USER: envInt({ min: 1, max: 100, default: DEFAULT_MAX_CONNECTIONS_PER_USER }),
  /** Ping interval; a socket that misses a pong for one interval is closed. Keep it below proxy idle timeouts. */
  REALTIME_HEARTBEAT_INTERVAL_MS: envInt({ min: 50, max: 300_000, default: DEFAULT_HEARTBEAT_INTERVAL_MS }),
});

export type RealtimeConfig = z.infer<typeof realtimeConfigSchema>;

export function loadRealtimeConfig(env: Record<string, string | undefined> = process.env): RealtimeConfig {
  return loadConfig(realtimeConfigSchema, env);
}
