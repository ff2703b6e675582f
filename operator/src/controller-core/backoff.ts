import { jitter } from './clock';

export interface BackoffOptions {
  /** @default 800 ms, client-go's reflector */
  initialMs?: number;
  /** @default 30 s, client-go's reflector */
  maxMs?: number;
  /** Each delay is stretched by a random factor in [1, 1 + jitter). @default 0.2 */
  jitter?: number;
  random?: () => number;
}

/** Exponential backoff for reconnect loops (informers' list/watch): doubles per failure, resets on success. */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitterFactor: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 800;
    this.maxMs = options.maxMs ?? 30_000;
    this.jitterFactor = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
  }

  /** The next delay in milliseconds. */
  next(): number {
    const base = Math.min(this.initialMs * 2 ** Math.min(this.attempt, 30), this.maxMs);
    this.attempt += 1;
    return Math.round(jitter(base, this.jitterFactor, this.random));
  }

  reset(): void {
    this.attempt = 0;
  }
}
