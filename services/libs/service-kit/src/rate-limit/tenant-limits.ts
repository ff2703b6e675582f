import type Redis from 'ioredis';
import { z } from 'zod';

/** A tenant's application limits (its spec.quota, sent by the operator in auth.organisation.upsert). */
export interface TenantLimits {
  apiRequestsPerMinute?: number;
  users?: number;
  documentStorageBytes?: number;
}

/** How long a service trusts the limits it read from Redis before reading them again. */
export const TENANT_LIMITS_CACHE_TTL_MS = 10_000;
/** At most this many tenants' limits are kept in memory (least recently read go first). */
export const TENANT_LIMITS_CACHE_MAX_ENTRIES = 5_000;

/**
 * The Redis hash holding a tenant's limits: under the tenant's own prefix (`t:<id>:`), so that a dedicated
 * tenant's Redis user, limited to `~t:<id>:*`, can read it (docs/security.md).
 */
export const tenantLimitsKey = (tenantId: string): string => `t:${tenantId}:tenant-limits`;

const FIELDS = ['apiRequestsPerMinute', 'users', 'documentStorageBytes'] as const;
const storedLimit = z.coerce.number().int().nonnegative();

/** Writes a tenant's limits (auth, after storing them): the hash is replaced as a whole, atomically. */
export async function publishTenantLimits(redis: Redis, tenantId: string, limits: TenantLimits): Promise<void> {
  const key = tenantLimitsKey(tenantId);
  const fields = FIELDS.flatMap((field) => (limits[field] === undefined ? [] : [field, String(limits[field])]));
  const transaction = redis.multi().del(key);
  if (fields.length > 0) transaction.hset(key, ...fields);
  const results = await transaction.exec();
  const failed = results?.find(([error]) => error);
  if (failed) throw failed[0];
}

/** Parses the hash; fields that are missing or not non-negative integers mean "no limit". */
export function parseTenantLimits(hash: Record<string, string>): TenantLimits {
  const limits: TenantLimits = {};
  for (const field of FIELDS) {
    const parsed = storedLimit.safeParse(hash[field]);
    if (hash[field] !== undefined && parsed.success) limits[field] = parsed.data;
  }
  return limits;
}

/**
 * Reads tenants' limits from Redis with a short in-process cache, so the rate limiter adds no round trip to most
 * requests. A Redis failure reads as "no limits" (and is not cached), because limits must never take a service down.
 */
export class TenantLimitsReader {
  private readonly cache = new Map<string, { limits: TenantLimits; until: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  async read(tenantId: string): Promise<TenantLimits> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(tenantId);
    if (cached && cached.until > now) return cached.limits;
    let limits: TenantLimits;
    try {
      limits = parseTenantLimits(await this.redis.hgetall(tenantLimitsKey(tenantId)));
    } catch {
      return cached?.limits ?? {};
    }
    this.cache.delete(tenantId);
    if (this.cache.size >= TENANT_LIMITS_CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(tenantId, { limits, until: now + (this.options.ttlMs ?? TENANT_LIMITS_CACHE_TTL_MS) });
    return limits;
  }

  /** Forgets what was read (tests, and auth right after it changed a tenant's limits). */
  forget(tenantId?: string): void {
    if (tenantId === undefined) this.cache.clear();
    else this.cache.delete(tenantId);
  }
}
