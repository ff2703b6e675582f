/**
 * Time as the controller core sees it. Every timer in the core goes through a Clock so that the work queue,
 * rate limiters, informers' resync and leader election can be tested with a fake clock, step by step.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

/** Opaque handle of a scheduled callback. */
export interface ClockTimer {
  readonly __clockTimer?: never;
}

class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): ClockTimer {
    return setTimeout(callback, Math.max(0, delayMs)) as unknown as ClockTimer;
  }

  clearTimeout(timer: ClockTimer): void {
    clearTimeout(timer as unknown as NodeJS.Timeout);
  }
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = new SystemClock();

/**
 * Resolves after `delayMs` on `clock`, or as soon as `signal` aborts (it never rejects: callers check the signal
 * themselves, which keeps shutdown paths free of exception plumbing).
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `base` scaled by a random factor in [1, 1 + maxFactor), as client-go's wait.Jitter. */
export function jitter(baseMs: number, maxFactor: number, random: () => number = Math.random): number {
  return maxFactor > 0 ? baseMs + random() * maxFactor * baseMs : baseMs;
}
