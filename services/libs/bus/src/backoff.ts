/** Capped exponential backoff, shared by reconnects, relay failures and retry scheduling. */
export interface BackoffOptions {
  /** Delay before the first retry. */
  readonly initialDelayMs: number;
  /** Upper bound of any delay. */
  readonly maxDelayMs: number;
  /** Growth per attempt. @default 2 */
  readonly factor?: number;
  /**
   * Spread delays over [delay/2, delay] ("equal jitter") so that many clients that lost the broker at the same
   * moment do not all come back at the same moment. @default true
   */
  readonly jitter?: boolean;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): `initial * factor^attempt`, capped at `max`,
 * optionally jittered.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const exponent = Math.max(0, Math.floor(attempt));
  // Compare in log space first so that large attempt counts never overflow to Infinity.
  const uncapped = exponent > 64 ? Number.POSITIVE_INFINITY : options.initialDelayMs * Math.pow(factor, exponent);
  const capped = Math.min(options.maxDelayMs, uncapped);
  if (options.jitter === false) return Math.round(capped);
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/** Stateful wrapper: `next()` returns successive delays until `reset()`. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return backoffDelay(this.attempt++, this.options, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/**
 * Delayed-retry schedule of a consumer: after delivery `attempt` (1-based) failed, the delay of the next try,
 * or undefined when the attempts are used up and the message must be parked.
 */
export function nextRetryDelay(attempt: number, delaysMs: readonly number[]): number | undefined {
  if (!Number.isInteger(attempt) || attempt < 1) return delaysMs[0];
  return delaysMs[attempt - 1];
}

/** Resolves after `ms`, or early when `signal` aborts (used by loops that must stop promptly). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
