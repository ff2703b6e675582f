import { isIP } from 'node:net';
import { z } from 'zod';
import { envInt } from '../config/env';

/** The seed's default: 60 requests a minute from one client address. */
export const DEFAULT_RATE_LIMIT_IP_PER_MINUTE = 60;
/** One user, over every address and device. */
export const DEFAULT_RATE_LIMIT_USER_PER_MINUTE = 120;
/** A tenant without `apiRequestsPerMinute` in its limits: no tenant-wide limit (0). */
export const DEFAULT_RATE_LIMIT_TENANT_PER_MINUTE = 0;
export const RATE_LIMIT_MAX_PER_MINUTE = 10_000_000;

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

function isProxyEntry(entry: string): boolean {
  if (PROXY_KEYWORDS.includes(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** The local gateway (nginx) runs on loopback; deployments list their ingress controller's addresses. */
export const DEFAULT_TRUSTED_PROXIES = '127.0.0.1,::1';

/** The entries of a TRUSTED_PROXIES value (comma-separated), or false when there are none. */
export function parseTrustedProxies(value: string): string[] | false {
  const entries = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return entries.length > 0 ? entries : false;
}

/** A comma-separated list of proxy addresses or CIDR ranges (`10.0.0.0/8,127.0.0.1`, or `loopback`). */
export function envProxyList() {
  return z
    .string()
    .default(DEFAULT_TRUSTED_PROXIES)
    .refine((value) => (parseTrustedProxies(value) || []).every(isProxyEntry))
    .describe('comma-separated IP addresses or CIDR ranges, for example 127.0.0.1,10.0.0.0/8 (empty: trust no proxy)');
}

/**
 * Under NODE_ENV=test every limit defaults to this instead: every test file of the suite shares 127.0.0.1 and one
 * Redis, so the seed's 60 a minute would make unrelated tests fail. The counters still run (Redis, headers); the
 * limits themselves are tested with explicit settings (rate-limit.int-spec.ts).
 */
export const TEST_RATE_LIMIT_PER_MINUTE = 100_000;

/**
 * The rate-limit settings every service reads (part of baseConfigSchema). 0 turns a limit off; unset means the
 * default (DEFAULT_RATE_LIMIT_*; TEST_RATE_LIMIT_PER_MINUTE under NODE_ENV=test). The tenant limit comes from the
 * tenant's own record (`apiRequestsPerMinute`); RATE_LIMIT_TENANT_PER_MINUTE is its fallback.
 */
export const rateLimitConfigShape = {
  RATE_LIMIT_IP_PER_MINUTE: envInt({ min: 0, max: RATE_LIMIT_MAX_PER_MINUTE }).optional(),
  RATE_LIMIT_USER_PER_MINUTE: envInt({ min: 0, max: RATE_LIMIT_MAX_PER_MINUTE }).optional(),
  RATE_LIMIT_TENANT_PER_MINUTE: envInt({ min: 0, max: RATE_LIMIT_MAX_PER_MINUTE }).optional(),
  /**
   * Proxies whose X-Forwarded-For is believed (the gateway, the ingress controller); the client is the first
   * address from the right that is not one of them. Empty: the TCP peer, whatever the headers say.
   */
  TRUSTED_PROXIES: envProxyList(),
  /**
   * Prefix of the kit's own Redis keys that belong to no tenant (per-address counters): `t:<id>:` in a dedicated
   * tenant's release, whose Redis user may only touch its own prefix. Tenant keys are always `t:<id>:…`.
   */
  REDIS_KEY_PREFIX: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9:_-]*$/)
    .default('')
    .describe('a short key prefix such as t:acme: (letters, digits, colons, dashes, underscores)'),
};

export interface EffectiveRateLimits {
  ipPerMinute: number;
  userPerMinute: number;
  tenantPerMinute: number;
}

/** The limits in force for a configuration (defaults applied, see rateLimitConfigShape). */
export function effectiveRateLimits(config: {
  NODE_ENV: string;
  RATE_LIMIT_IP_PER_MINUTE?: number;
  RATE_LIMIT_USER_PER_MINUTE?: number;
  RATE_LIMIT_TENANT_PER_MINUTE?: number;
}): EffectiveRateLimits {
  const test = config.NODE_ENV === 'test';
  return {
    ipPerMinute: config.RATE_LIMIT_IP_PER_MINUTE ?? (test ? TEST_RATE_LIMIT_PER_MINUTE : DEFAULT_RATE_LIMIT_IP_PER_MINUTE),
    userPerMinute: config.RATE_LIMIT_USER_PER_MINUTE ?? (test ? TEST_RATE_LIMIT_PER_MINUTE : DEFAULT_RATE_LIMIT_USER_PER_MINUTE),
    tenantPerMinute: config.RATE_LIMIT_TENANT_PER_MINUTE ?? DEFAULT_RATE_LIMIT_TENANT_PER_MINUTE,
  };
}
