import { type Clock, systemClock } from './clock';

/** controller-runtime's per-item backoff: the first retry after 5 ms, doubling per failure. */
export const DEFAULT_ITEM_BASE_DELAY_MS = 5;
/** ...capped at 1000 s. */
export const DEFAULT_ITEM_MAX_DELAY_MS = 1_000_000;
/** controller-runtime's overall limit on requeues: 10 per second... */
export const DEFAULT_QUEUE_QPS = 10;
/** ...with bursts of up to 100. */
export const DEFAULT_QUEUE_BURST = 100;

/**
 * Decides how long an item waits before it is retried (client-go's workqueue.TypedRateLimiter).
 * `when` records a failure and returns the delay in milliseconds; `forget` clears the item's history.
 */
export interface RateLimiter {
  when(item: string): number;
  forget(item: string): void;
  numRequeues(item: string): number;
}

export interface ItemExponentialFailureRateLimiterOptions {
  /** @default 5 (DEFAULT_ITEM_BASE_DELAY_MS) */
  baseDelayMs?: number;
  /** @default 1_000_000 (DEFAULT_ITEM_MAX_DELAY_MS) */
  maxDelayMs?: number;
}

/** base × 2^failures, capped: 5 ms, 10 ms, 20 ms, … 1000 s for the defaults. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: ItemExponentialFailureRateLimiterOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_ITEM_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_ITEM_MAX_DELAY_MS;
    if (!(this.baseDelayMs > 0) || !(this.maxDelayMs >= this.baseDelayMs)) {
      throw new Error(
        `Invalid exponential backoff (base ${this.baseDelayMs} ms, max ${this.maxDelayMs} ms): ` +
          'the base delay must be positive and no larger than the maximum delay.',
      );
    }
  }

  when(item: string): number {
    const exponent = this.failures.get(item) ?? 0;
    this.failures.set(item, exponent + 1);
    // 2^exponent overflows to Infinity long before it matters; the cap keeps the result finite.
    return Math.min(this.baseDelayMs * 2 ** exponent, this.maxDelayMs);
  }

  forget(item: string): void {
    this.failures.delete(item);
  }

  numRequeues(item: string): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * A token bucket (golang.org/x/time/rate semantics): `qps` tokens per second refill up to `burst`. `reserve`
 * always takes a token, going into debt when none is left, and returns how long the caller must wait for it.
 * Used both for the work queue's overall limit and for the API client's QPS/burst.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(qps > 0) || !(burst >= 1)) {
      throw new Error(`Invalid token bucket (qps ${qps}, burst ${burst}): qps must be positive and burst at least 1.`);
    }
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes one token; returns the wait in milliseconds until it is actually available (0 when it is now). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    // The epsilon keeps float noise (0.1 * 3 = 0.30000000000000004) from rounding a whole wait up by 1 ms.
    return Math.ceil((-this.tokens * 1000) / this.qps - 1e-6);
  }

  /** Takes a token only if one is available now. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
    }
  }
}

export interface BucketRateLimiterOptions {
  /** @default 10 (DEFAULT_QUEUE_QPS) */
  qps?: number;
  /** @default 100 (DEFAULT_QUEUE_BURST) */
  burst?: number;
  clock?: Clock;
}

/** The overall limit: every requeue takes a token, whichever item it is for. */
export class BucketRateLimiter implements RateLimiter {
  private readonly bucket: TokenBucket;

  constructor(options: BucketRateLimiterOptions = {}) {
    this.bucket = new TokenBucket(
      options.qps ?? DEFAULT_QUEUE_QPS,
      options.burst ?? DEFAULT_QUEUE_BURST,
      options.clock ?? systemClock,
    );
  }

  when(): number {
    return this.bucket.reserve();
  }

  forget(): void {}

  numRequeues(): number {
    return 0;
  }
}

/** The longest delay any of `limiters` asks for (each of them records the request). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new Error('MaxOfRateLimiter needs at least one rate limiter to combine.');
    this.limiters = limiters;
  }

  when(item: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.when(item)));
  }

  forget(item: string): void {
    for (const limiter of this.limiters) limiter.forget(item);
  }

  numRequeues(item: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.numRequeues(item)));
  }
}

export interface ControllerRateLimiterOptions
  extends ItemExponentialFailureRateLimiterOptions,
    BucketRateLimiterOptions {}

/**
 * controller-runtime's default: per-item exponential backoff (5 ms doubling to 1000 s) combined with an overall
 * token bucket (10 qps, burst 100), whichever asks for the longer wait.
 */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(options),
    new BucketRateLimiter(options),
  );
}
