import { type Clock, systemClock } from './clock';
import { errorMessage, type Logger, silentLogger } from './logger';
import type { ControllerMetrics, ReconcileMetrics, ReconcileOutcome } from './metrics';
import type { RateLimiter } from './rate-limiter';
import { defaultControllerRateLimiter } from './rate-limiter';
import { WorkQueue } from './work-queue';

/** How long reconciles still running at the end of the graceful shutdown get to return once aborted. */
export const ABORTED_RECONCILE_WAIT_MS = 5_000;

/** What to reconcile: the name (and namespace) of one object of the controller's kind. */
export interface Request {
  namespace?: string;
  name: string;
}

/** Omit (or return nothing) when the object is in its desired state. */
export interface ReconcileResult {
  /** Reconcile again after the rate limiter's backoff. */
  requeue?: boolean;
  /** Reconcile again after this many milliseconds (takes precedence over `requeue`). */
  requeueAfterMs?: number;
}

/**
 * Level-based and idempotent: read the object, converge the world to it, report in status and Events. Throwing
 * retries the request with per-item exponential backoff. `signal` aborts when the operator must stop at once
 * (leadership lost, or the graceful shutdown timeout passed): stop issuing writes then.
 */
export interface Reconciler {
  reconcile(request: Request, signal: AbortSignal): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  /** Names metrics (`controller`, and the queue's `name`) and logs; lower-case kind, e.g. `rallyforgetenant`. */
  name: string;
  reconciler: Reconciler;
  /** Workers; one key is never reconciled by two at once. @default 1 (controller-runtime's default) */
  maxConcurrentReconciles?: number;
  /** @default 5 ms doubling to 1000 s per item, with 10 qps burst 100 overall */
  rateLimiter?: RateLimiter;
  clock?: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

/** `namespace/name` or `name`: the work-queue key of a request. */
export function requestKey(request: Request): string {
  return request.namespace ? `${request.namespace}/${request.name}` : request.name;
}

export function parseRequestKey(key: string): Request {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * A work queue and its workers (controller-runtime's controller): requests are de-duplicated keys, each worker
 * takes one, runs the reconciler, and requeues on error (rate-limited), on `requeue`, or after `requeueAfterMs`.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics?: ReconcileMetrics;
  private readonly hardStop = new AbortController();
  private running?: Promise<void>;
  private active = 0;

  private constructor(options: ControllerOptions) {
    const workers = options.maxConcurrentReconciles ?? 1;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new Error(`Controller ${options.name}: maxConcurrentReconciles must be a positive integer, got ${workers}.`);
    }
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.workers = workers;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics?.controller(options.name);
    this.metrics?.setWorkers(0, workers);
    this.queue = WorkQueue.create({
      name: options.name,
      clock: this.clock,
      rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock }),
      metrics: options.metrics?.workQueue(options.name),
    });
  }

  static create(options: ControllerOptions): Controller {
    return new Controller(options);
  }

  /** Queues a reconcile of `request` (de-duplicated with any already queued). */
  enqueue(request: Request): void {
    this.queue.add(requestKey(request));
  }

  /** Starts the workers (idempotent). */
  start(): void {
    if (this.running) return;
    this.logger.info(`Started controller ${this.name}`, { controller: this.name, workers: this.workers });
    this.running = Promise.all(Array.from({ length: this.workers }, () => this.work())).then(() => undefined);
  }

  /**
   * Stops taking work and waits for in-flight reconciles up to `timeoutMs`; then aborts their signal and waits
   * for them to return. Resolves true when everything finished within the timeout.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.queue.shutDown();
    if (!this.running) return true;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([this.running.then(() => true), timedOut]);
    if (timer) this.clock.clearTimeout(timer);
    if (!finished) {
      this.logger.warn(`Controller ${this.name}: reconciles still running after ${timeoutMs} ms; aborting them`, {
        controller: this.name,
      });
      this.hardStop.abort(new Error(`controller ${this.name} is stopping`));
      // A reconcile that ignores its signal must not hold the process forever (controller-runtime also returns
      // after its grace period): give the aborted ones a short while, then stop without them.
      let abandon: ReturnType<Clock['setTimeout']> | undefined;
      const returned = await Promise.race([
        this.running.then(() => true),
        new Promise<boolean>((resolve) => {
          abandon = this.clock.setTimeout(() => resolve(false), ABORTED_RECONCILE_WAIT_MS);
        }),
      ]);
      if (abandon) this.clock.clearTimeout(abandon);
      if (!returned) {
        this.logger.error(`Controller ${this.name}: aborted reconciles did not return within ${ABORTED_RECONCILE_WAIT_MS} ms; stopping without them`, {
          controller: this.name,
        });
      }
    }
    this.logger.info(`Stopped controller ${this.name}`, { controller: this.name });
    return finished;
  }

  private async work(): Promise<void> {
    while (!this.queue.isShuttingDown()) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileKey(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileKey(key: string): Promise<void> {
    const request = parseRequestKey(key);
    const started = this.clock.now();
    this.active += 1;
    this.metrics?.setWorkers(this.active, this.workers);
    let outcome: ReconcileOutcome;
    try {
      const result = (await this.reconciler.reconcile(request, this.hardStop.signal)) ?? {};
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, result.requeueAfterMs);
        outcome = 'requeue_after';
      } else if (result.requeue) {
        this.queue.addRateLimited(key);
        outcome = 'requeue';
      } else {
        this.queue.forget(key);
        outcome = 'success';
      }
    } catch (error) {
      outcome = 'error';
      this.queue.addRateLimited(key);
      this.logger.error(`Failed to reconcile ${this.name} ${key}`, {
        controller: this.name,
        key,
        error: errorMessage(error),
        retries: this.queue.numRequeues(key),
      });
    } finally {
      this.active -= 1;
      this.metrics?.setWorkers(this.active, this.workers);
    }
    this.metrics?.reconciled(outcome, (this.clock.now() - started) / 1000);
  }
}
