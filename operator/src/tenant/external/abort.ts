/** Rejects with the signal's reason as soon as it aborts, whatever `promise` is still doing. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A signal that aborts after `ms` or when `signal` does. */
export function deadline(ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

/**
 * The shared tier's checks give the same answer for every tenant: one check serves all tenants reconciled within
 * `ttlMs` (success or failure), and concurrent callers share the one in flight. 1000 shared tenants on a resync
 * then cost a handful of connections, not thousands.
 */
export class SharedCheck {
  private inFlight?: Promise<void>;
  private last?: { at: number; error?: unknown };

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  run(check: () => Promise<void>, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.last && this.now() - this.last.at < this.ttlMs) {
      return this.last.error === undefined ? Promise.resolve() : Promise.reject(this.last.error);
    }
    this.inFlight ??= check().then(
      () => {
        this.last = { at: this.now() };
        this.inFlight = undefined;
      },
      (error: unknown) => {
        this.last = { at: this.now(), error };
        this.inFlight = undefined;
        throw error;
      },
    );
    this.inFlight.catch(() => undefined); // callers that gave up (aborted) must not leave it unhandled
    return abortable(this.inFlight, signal);
  }
}
