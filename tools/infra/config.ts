import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root: tools/infra/ is two levels down. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Everything the local platform writes lives here (gitignored), so nothing depends on the machine's own config. */
export const STATE_DIR = process.env.RF_STATE_DIR ?? join(REPO_ROOT, '.rallyforge');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}: expected a TCP port between 1 and 65535, got "${raw}"`);
  }
  return value;
}

/** Non-default ports so the platform never collides with servers the machine may already run. */
export const PORTS = {
  postgres: port('RF_PG_PORT', 54329),
  redis: port('RF_REDIS_PORT', 63799),
  amqp: port('RF_AMQP_PORT', 56729),
  rabbitManagement: port('RF_RABBIT_MGMT_PORT', 15679),
  rabbitDist: port('RF_RABBIT_DIST_PORT', 25679),
  prometheus: port('RF_PROMETHEUS_PORT', 9099),
  gateway: port('RF_GATEWAY_PORT', 8080),
  /** The development mail catcher (tools/platform/mail-catcher.ts) that auth's SMTP_URL points at. */
  smtp: port('RF_SMTP_PORT', 11025),
  operatorHealth: port('RF_OPERATOR_HEALTH_PORT', 18081),
  operatorMetrics: port('RF_OPERATOR_METRICS_PORT', 18080),
};

export const SERVICES = ['auth', 'claims', 'payments', 'documents', 'realtime'] as const;
export type ServiceName = (typeof SERVICES)[number];
/** Services that own a PostgreSQL database (realtime keeps no state of its own). */
export const DATABASE_SERVICES: readonly ServiceName[] = ['auth', 'claims', 'payments', 'documents'];
export const SERVICE_PORTS: Record<ServiceName, number> = {
  auth: 3001,
  claims: 3002,
  payments: 3003,
  documents: 3004,
  realtime: 3005,
};

export interface Secrets {
  postgresPassword: string;
  redisPassword: string;
  rabbitPassword: string;
  servicePasswords: Record<string, string>;
}

export function ensureDir(path: string, mode = 0o755): string {
  mkdirSync(path, { recursive: true, mode });
  return path;
}

function token(): string {
  // 32 characters (192 bits): the seed asks for database passwords of at least 32.
  return randomBytes(24).toString('base64url');
}

/**
 * Local credentials are generated on first run and kept in .rallyforge/secrets.json (mode 600), never committed
 * and never printed in logs.
 */
export function loadSecrets(): Secrets {
  ensureDir(STATE_DIR);
  const file = join(STATE_DIR, 'secrets.json');
  if (existsSync(file)) {
    const secrets = JSON.parse(readFileSync(file, 'utf8')) as Secrets;
    secrets.servicePasswords ??= {};
    return secrets;
  }
  const secrets: Secrets = {
    postgresPassword: token(),
    redisPassword: token(),
    rabbitPassword: token(),
    servicePasswords: {},
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

export function saveSecrets(secrets: Secrets): void {
  writeFileSync(join(STATE_DIR, 'secrets.json'), JSON.stringify(secrets, null, 2), { mode: 0o600 });
}

/** A per-service password, created once and remembered. */
export function servicePassword(secrets: Secrets, key: string): string {
  if (!secrets.servicePasswords[key]) {
    secrets.servicePasswords[key] = token();
    saveSecrets(secrets);
  }
  return secrets.servicePasswords[key];
}
