import { ABORTED_RECONCILE_WAIT_MS, Controller, parseRequestKey, type Reconciler, type ReconcileResult, type Request, requestKey } from './controller';
import { ControllerMetrics } from './metrics';
import { FakeClock, flushMicrotasks } from './testing/fake-clock';

/** A reconciler whose calls a test completes by hand. */
class ManualReconciler implements Reconciler {
  readonly calls: Array<{ key: string; at: number; signal: AbortSignal; finish: (result?: ReconcileResult | Error) => void }> = [];
  inFlight = new Set<string>();
  maxInFlightPerKey = 0;

  constructor(private readonly clock: FakeClock) {}

  reconcile(request: Request, signal: AbortSignal): Promise<ReconcileResult | void> {
    const key = requestKey(request);
    if (this.inFlight.has(key)) this.maxInFlightPerKey = 2;
    this.inFlight.add(key);
    return new Promise((resolve, reject) => {
      this.calls.push({
        key,
        at: this.clock.now(),
        signal,
        finish: (result) => {
          this.inFlight.delete(key);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      });
    });
  }

  pending(): string[] {
    return [...this.inFlight];
  }
}

function setup(workers = 1) {
  const clock = new FakeClock();
  const metrics = ControllerMetrics.create();
  const reconciler = new ManualReconciler(clock);
  const controller = Controller.create({ name: 'widget', reconciler, maxConcurrentReconciles: workers, clock, metrics });
  return { clock, metrics, reconciler, controller };
}

async function counter(metrics: ControllerMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? NaN;
}

describe('Controller', () => {
  it('maps keys to requests both ways', () => {
    expect(parseRequestKey(requestKey({ namespace: 'ns', name: 'a' }))).toEqual({ namespace: 'ns', name: 'a' });
    expect(parseRequestKey(requestKey({ name: 'cluster-scoped' }))).toEqual({ name: 'cluster-scoped' });
  });

  it('runs up to maxConcurrentReconciles, never two on the same key', async () => {
    const { reconciler, controller } = setup(2);
    controller.start();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    controller.enqueue({ namespace: 'ns', name: 'b' });
    controller.enqueue({ namespace: 'ns', name: 'c' });
    await flushMicrotasks();
    expect(reconciler.pending()).toEqual(['ns/a', 'ns/b']);

    controller.enqueue({ namespace: 'ns', name: 'a' }); // changed while being reconciled
    await flushMicrotasks();
    expect(reconciler.calls.map((c) => c.key)).toEqual(['ns/a', 'ns/b']);

    reconciler.calls[1]!.finish();
    await flushMicrotasks();
    expect(reconciler.pending()).toEqual(['ns/a', 'ns/c']); // c, not a second a
    reconciler.calls[0]!.finish();
    await flushMicrotasks();
    expect(reconciler.calls.map((c) => c.key)).toEqual(['ns/a', 'ns/b', 'ns/c', 'ns/a']);
    expect(reconciler.maxInFlightPerKey).toBe(0);
    reconciler.calls[2]!.finish();
    reconciler.calls[3]!.finish();
    await controller.stop(1000);
  });

  it('retries a failing key with exponential backoff and resets it after success', async () => {
    const { clock, reconciler, controller, metrics } = setup();
    controller.start();
    controller.enqueue({ name: 'a' });
    for (let i = 0; i < 4; i++) {
      await clock.runNext().catch(() => undefined);
      await flushMicrotasks();
      reconciler.calls.at(-1)!.finish(new Error('database unreachable'));
      await flushMicrotasks();
    }
    await clock.runNext();
    const attempts = reconciler.calls.map((c) => c.at - reconciler.calls[0]!.at);
    expect(attempts).toEqual([0, 5, 15, 35, 75]); // waits of 5, 10, 20, 40 ms
    reconciler.calls.at(-1)!.finish(); // success forgets the failures
    await flushMicrotasks();
    expect(controller.queue.numRequeues('a')).toBe(0);

    expect(await counter(metrics, 'controller_runtime_reconcile_errors_total', { controller: 'widget' })).toBe(4);
    expect(await counter(metrics, 'controller_runtime_reconcile_total', { controller: 'widget', result: 'error' })).toBe(4);
    expect(await counter(metrics, 'controller_runtime_reconcile_total', { controller: 'widget', result: 'success' })).toBe(1);
    expect(await counter(metrics, 'workqueue_retries_total', { name: 'widget' })).toBe(4);
    await controller.stop(1000);
  });

  it('requeues after the requested delay, or rate-limited on requeue', async () => {
    const { clock, reconciler, controller, metrics } = setup();
    controller.start();
    controller.enqueue({ name: 'a' });
    await flushMicrotasks();
    reconciler.calls[0]!.finish({ requeueAfterMs: 60_000 });
    await clock.advance(59_999);
    expect(reconciler.calls).toHaveLength(1);
    await clock.advance(1);
    expect(reconciler.calls).toHaveLength(2);
    reconciler.calls[1]!.finish({ requeue: true });
    await clock.advance(5);
    expect(reconciler.calls).toHaveLength(3);
    reconciler.calls[2]!.finish();
    await flushMicrotasks();
    expect(await counter(metrics, 'controller_runtime_reconcile_total', { result: 'requeue_after' })).toBe(1);
    expect(await counter(metrics, 'controller_runtime_reconcile_total', { result: 'requeue' })).toBe(1);
    expect(await metrics.registry.metrics()).toContain('controller_runtime_reconcile_time_seconds_count{controller="widget"} 3');
    await controller.stop(1000);
  });

  it('lets in-flight reconciles finish on stop, and takes no new work', async () => {
    const { reconciler, controller } = setup();
    controller.start();
    controller.enqueue({ name: 'a' });
    controller.enqueue({ name: 'b' });
    await flushMicrotasks();
    let stopped: boolean | undefined;
    const stopping = controller.stop(30_000).then((finished) => (stopped = finished));
    await flushMicrotasks();
    expect(stopped).toBeUndefined();
    expect(reconciler.calls[0]!.signal.aborted).toBe(false);
    reconciler.calls[0]!.finish();
    await stopping;
    expect(stopped).toBe(true);
    // b stays queued (the next leader relists and reconciles everything); nothing new is accepted.
    expect(reconciler.calls.map((c) => c.key)).toEqual(['a']);
    controller.enqueue({ name: 'c' });
    expect(controller.queue.len()).toBe(1);
  });

  it('aborts reconciles that outlive the graceful timeout', async () => {
    const { clock, reconciler, controller } = setup();
    controller.start();
    controller.enqueue({ name: 'slow' });
    await flushMicrotasks();
    const call = reconciler.calls[0]!;
    call.signal.addEventListener('abort', () => call.finish(new Error('aborted')));
    const stopping = controller.stop(30_000);
    await clock.advance(30_000);
    expect(await stopping).toBe(false);
    expect(call.signal.aborted).toBe(true);
  });

  it('stops without a reconcile that ignores its abort signal, a short while after aborting it', async () => {
    const { clock, reconciler, controller } = setup();
    controller.start();
    controller.enqueue({ name: 'stuck' });
    await flushMicrotasks();
    let stopped: boolean | undefined;
    const stopping = controller.stop(30_000).then((finished) => (stopped = finished));
    await clock.advance(30_000);
    expect(reconciler.calls[0]!.signal.aborted).toBe(true);
    expect(stopped).toBeUndefined();
    await clock.advance(ABORTED_RECONCILE_WAIT_MS);
    await stopping;
    expect(stopped).toBe(false);
  });

  it('rejects a non-positive worker count', () => {
    expect(() => Controller.create({ name: 'x', reconciler: { reconcile: async () => {} }, maxConcurrentReconciles: 0 })).toThrow(
      /maxConcurrentReconciles must be a positive integer/,
    );
  });
});
