import type Redis from 'ioredis';

/** Every limit counts requests per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** One counter to take a request from: a Redis key and how many requests it allows per window. */
export interface RateLimitBucket {
  /** What it limits, for the error message and metrics: `ip`, `user`, `tenant`. */
  readonly scope: 'ip' | 'user' | 'tenant';
  readonly key: string;
  readonly limit: number;
}

/** The outcome for the tightest of the buckets taken. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** The bucket that refused the request, or the one with the fewest requests left. */
  readonly scope: RateLimitBucket['scope'];
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until that bucket's window ends (at least 1). */
  readonly resetSeconds: number;
}

/**
 * Fixed windows, atomic in one round trip: for each key INCR, and start its window (PEXPIRE) on the first request,
 * so the window begins at a client's first request and every replica counts into the same key. Returns count and
 * remaining milliseconds per key. A refused request still counts: hammering does not shorten the wait.
 */
const CONSUME_SCRIPT = `
local window = tonumber(ARGV[1])
local result = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window)
    ttl = window
  end
  result[#result + 1] = count
  result[#result + 1] = ttl
end
return result
`;

type RedisWithConsume = Redis & { rfRateLimitConsume(numberOfKeys: number, ...args: Array<string | number>): Promise<number[]> };

/** Takes one request from each bucket (one Lua script, so the keys move together and replicas agree). */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly windowMs = RATE_LIMIT_WINDOW_MS,
  ) {
    if (!(redis as unknown as Partial<RedisWithConsume>).rfRateLimitConsume) {
      redis.defineCommand('rfRateLimitConsume', { lua: CONSUME_SCRIPT });
    }
  }

  /** Undefined when there is nothing to limit. Throws when Redis fails (the caller decides to fail open). */
  async consume(buckets: readonly RateLimitBucket[]): Promise<RateLimitDecision | undefined> {
    const active = buckets.filter((bucket) => bucket.limit > 0);
    if (active.length === 0) return undefined;
    const raw = await (this.redis as unknown as RedisWithConsume).rfRateLimitConsume(active.length, ...active.map((b) => b.key), this.windowMs);
    let tightest: RateLimitDecision | undefined;
    for (const [index, bucket] of active.entries()) {
      const count = Number(raw[index * 2]);
      const ttlMs = Number(raw[index * 2 + 1]);
      const decision: RateLimitDecision = {
        allowed: count <= bucket.limit,
        scope: bucket.scope,
        limit: bucket.limit,
        remaining: Math.max(0, bucket.limit - count),
        resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
      };
      if (!tightest || isTighter(decision, tightest)) tightest = decision;
    }
    return tightest;
  }
}

function isTighter(candidate: RateLimitDecision, current: RateLimitDecision): boolean {
  if (candidate.allowed !== current.allowed) return !candidate.allowed;
  if (!candidate.allowed) return candidate.resetSeconds > current.resetSeconds;
  return candidate.remaining < current.remaining;
}
