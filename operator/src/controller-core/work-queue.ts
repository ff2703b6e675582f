import { type Clock, type ClockTimer, systemClock } from './clock';
import type { WorkQueueMetrics } from './metrics';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter';

export interface WorkQueueOptions {
  /** Name used in metrics (label `name`) and logs. */
  name: string;
  /** @default defaultControllerRateLimiter(): 5 ms doubling to 1000 s per item, 10 qps burst 100 overall */
  rateLimiter?: RateLimiter;
  /** @default systemClock */
  clock?: Clock;
  /** @default none: ControllerMetrics.for(registry).workQueue(name) to export controller-runtime's metrics */
  metrics?: WorkQueueMetrics;
}

interface Waiting {
  readyAt: number;
  timer: ClockTimer;
}

/**
 * client-go's rate-limited, delaying work queue of string keys.
 *
 * - An item is queued at most once (`dirty`), however often it is added before a worker takes it.
 * - An item a worker holds (`processing`) is never handed to another worker; adding it meanwhile marks it dirty,
 *   and `done` queues it again, once.
 * - `addAfter` waits on the clock (the earliest pending time wins); `addRateLimited` asks the rate limiter how long.
 * - After `shutDown`, adds are ignored and queued items are still handed out; `get` then resolves `undefined`.
 */
export class WorkQueue {
  readonly name: string;
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number /* started at, ms */>();
  private readonly addedAt = new Map<string, number>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly getters: Array<(item: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private readonly rateLimiter: RateLimiter;
  private readonly clock: Clock;
  private readonly metrics?: WorkQueueMetrics;
  private shuttingDown = false;

  private constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
    this.metrics = options.metrics;
    this.metrics?.trackInFlight(() => {
      const now = this.clock.now();
      return [...this.processing.values()].map((startedAt) => (now - startedAt) / 1000);
    });
  }

  static create(options: WorkQueueOptions): WorkQueue {
    return new WorkQueue(options);
  }

  /** Queues `item` unless it is already queued; an item being processed is queued again when it is done. */
  add(item: string): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.metrics?.added();
    this.dirty.add(item);
    if (!this.addedAt.has(item)) this.addedAt.set(item, this.clock.now());
    if (this.processing.has(item)) return;
    this.queue.push(item);
    this.handOut();
  }

  /** Adds `item` after `delayMs`; while it waits, an earlier request replaces a later one. */
  addAfter(item: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waiting.get(item);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, delayMs);
    this.waiting.set(item, { readyAt, timer });
  }

  /** Adds `item` when the rate limiter allows: per-item backoff and the overall bucket. Counts as a retry. */
  addRateLimited(item: string): void {
    if (this.shuttingDown) return;
    this.metrics?.retried();
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Clears `item`'s failure history (after a successful reconcile); does not remove it from the queue. */
  forget(item: string): void {
    this.rateLimiter.forget(item);
  }

  /** How many times `item` has been rate-limited since it was last forgotten. */
  numRequeues(item: string): number {
    return this.rateLimiter.numRequeues(item);
  }

  /**
   * The next item, once one is queued; the caller owns it until `done(item)`. Resolves `undefined` once the queue
   * is shut down and empty.
   */
  get(): Promise<string | undefined> {
    const item = this.take();
    if (item !== undefined) return Promise.resolve(item);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `item` finished; if it was added while being processed, it is queued again now. */
  done(item: string): void {
    const startedAt = this.processing.get(item);
    if (startedAt === undefined) return;
    this.processing.delete(item);
    this.metrics?.finished((this.clock.now() - startedAt) / 1000);
    if (this.dirty.has(item)) {
      this.queue.push(item);
      this.handOut();
    }
    this.checkDrained();
  }

  /** Items queued and not yet handed out. */
  len(): number {
    return this.queue.length;
  }

  /** Items handed out and not yet done. */
  inFlight(): number {
    return this.processing.size;
  }

  /** Items waiting for their delay (addAfter / addRateLimited). */
  delayed(): number {
    return this.waiting.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting items and cancels delayed ones. Queued items are still handed out; waiting `get` calls
   * resolve `undefined` once nothing is queued.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    this.handOut();
    this.checkDrained();
  }

  /** `shutDown`, then resolves when every queued item has been handed out and every handed-out item is done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private take(): string | undefined {
    const item = this.queue.shift();
    if (item === undefined) return undefined;
    const now = this.clock.now();
    this.processing.set(item, now);
    this.dirty.delete(item);
    const addedAt = this.addedAt.get(item) ?? now;
    this.addedAt.delete(item);
    this.metrics?.started((now - addedAt) / 1000);
    return item;
  }

  private handOut(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      const getter = this.getters.shift()!;
      getter(this.take());
    }
    if (this.shuttingDown && this.queue.length === 0) {
      for (const getter of this.getters.splice(0)) getter(undefined);
    }
  }

  private isDrained(): boolean {
    return this.queue.length === 0 && this.processing.size === 0;
  }

  private checkDrained(): void {
    if (this.shuttingDown && this.isDrained()) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }
}
