import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig, InjectRedis } from '@rallyforge/service-kit';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import type { AuthConfig } from '../config';

/**
 * Per-IP counters are platform-wide (one address spraying many organisations is one attacker), so they belong to no
 * tenant: they go under the kit's REDIS_KEY_PREFIX like its own per-address counters (`t:<id>:` in a dedicated
 * tenant's release, whose Redis user may touch nothing else: a refused key would make the limit fail open).
 */
const IP_KEY_SUFFIX = 'auth:login-rate:ip:';
/** Per-account counters live under the tenant's Redis prefix (`t:<id>:`), e-mail hashed: no personal data in keys. */
const ACCOUNT_KEY_SUFFIX = ':auth:login-rate:account:';

/**
 * One attempt on each counter, atomically: INCR, and start the window (PEXPIRE) when the key is new. Returns
 * `[count, remaining ms]` per key. A fixed window from the first attempt: simple, and exact across replicas.
 */
const HIT_SCRIPT = `
local results = {}
for _, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  table.insert(results, count)
  table.insert(results, ttl)
end
return results`;

export interface RateLimitCounter {
  count: number;
  /** Milliseconds until the window ends and the counter starts over. */
  remainingMs: number;
}

export interface LoginRateLimitHit {
  ip?: RateLimitCounter;
  account: RateLimitCounter;
}

export const LoginRateLimitMessages = {
  redisFailed: (error: unknown) =>
    `Login rate limit check failed (${error instanceof Error ? error.message : String(error)}); allowing the attempt`,
} as const;

/**
 * Login attempt counters in Redis, shared by every replica. Like the lockout counters, they fail open when Redis is
 * unreachable: the lockout and argon2's cost still bound guessing, and an outage must not lock everybody out.
 */
@Injectable()
export class LoginRateLimitRepository {
  private readonly logger = new Logger(LoginRateLimitRepository.name);

  private readonly ipKeyPrefix: string;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    @InjectConfig() config: AuthConfig,
  ) {
    this.ipKeyPrefix = `${config.REDIS_KEY_PREFIX}${IP_KEY_SUFFIX}`;
  }

  /** Counts one attempt from `ip` (when known) on `tenantId` + `email`; undefined when Redis did not answer. */
  async hit(tenantId: string, email: string, ip: string | undefined, windowSeconds: number): Promise<LoginRateLimitHit | undefined> {
    const keys = [accountKey(tenantId, email), ...(ip ? [`${this.ipKeyPrefix}${ip}`] : [])];
    try {
      const raw = (await this.redis.eval(HIT_SCRIPT, keys.length, ...keys, String(windowSeconds * 1000))) as number[];
      const counter = (index: number): RateLimitCounter => ({ count: Number(raw[index * 2]), remainingMs: Number(raw[index * 2 + 1]) });
      return { account: counter(0), ...(ip ? { ip: counter(1) } : {}) };
    } catch (error) {
      this.logger.warn(LoginRateLimitMessages.redisFailed(error));
      return undefined;
    }
  }
}

function accountKey(tenantId: string, email: string): string {
  return `t:${tenantId}${ACCOUNT_KEY_SUFFIX}${createHash('sha256').update(email).digest('base64url')}`;
}
