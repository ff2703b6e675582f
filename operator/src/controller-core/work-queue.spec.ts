import { ControllerMetrics } from './metrics';
import { ItemExponentialFailureRateLimiter, defaultControllerRateLimiter } from './rate-limiter';
import { FakeClock, flushMicrotasks } from './testing/fake-clock';
import { WorkQueue } from './work-queue';

function newQueue(clock = new FakeClock(), rateLimiter = defaultControllerRateLimiter({ clock })) {
  const metrics = ControllerMetrics.create();
  const queue = WorkQueue.create({ name: 'test', clock, rateLimiter, metrics: metrics.workQueue('test') });
  return { clock, queue, metrics };
}

/** Records what a pending get() resolved to, without awaiting it. */
function pendingGet(queue: WorkQueue) {
  const state: { settled: boolean; item?: string } = { settled: false };
  void queue.get().then((item) => {
    state.settled = true;
    state.item = item;
  });
  return state;
}

async function metricValue(metrics: ControllerMetrics, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => v.labels.name === 'test' && !('le' in v.labels))?.value ?? NaN;
}

describe('WorkQueue', () => {
  it('de-duplicates an item added again while it is queued, preserving first-add order', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.len()).toBe(0);
  });

  it('never hands an item being processed to a second worker, and queues it once more after done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    const first = await queue.get();
    expect(first).toBe('a');

    const second = pendingGet(queue);
    queue.add('a');
    queue.add('a');
    await flushMicrotasks();
    expect(second.settled).toBe(false);
    expect(queue.len()).toBe(0);

    queue.done('a');
    await flushMicrotasks();
    expect(second).toEqual({ settled: true, item: 'a' });

    // Added twice while processing, queued once: nothing else is left.
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(queue.inFlight()).toBe(0);
  });

  it('does not re-queue an item that was not added while it was processed', async () => {
    const { queue } = newQueue();
    queue.add('a');
    await queue.get();
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('hands different items to concurrent workers in order', async () => {
    const { queue } = newQueue();
    const w1 = pendingGet(queue);
    const w2 = pendingGet(queue);
    queue.add('a');
    queue.add('b');
    queue.add('c');
    await flushMicrotasks();
    expect([w1.item, w2.item]).toEqual(['a', 'b']);
    expect(queue.len()).toBe(1);
    expect(queue.inFlight()).toBe(2);
  });

  it('retries with per-item exponential backoff, doubling up to the cap', async () => {
    const clock = new FakeClock();
    const { queue } = newQueue(clock, new ItemExponentialFailureRateLimiter({ baseDelayMs: 5, maxDelayMs: 40 }));
    const readyAfter: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      queue.addRateLimited('a');
      const start = clock.now();
      expect(queue.len()).toBe(0);
      await clock.advance((clock.nextDueAt() ?? start) - start - 1);
      expect(queue.len()).toBe(0); // not a millisecond early
      await clock.advance(1);
      expect(await queue.get()).toBe('a');
      readyAfter.push(clock.now() - start);
      queue.done('a');
    }
    expect(readyAfter).toEqual([5, 10, 20, 40, 40]);
    expect(queue.numRequeues('a')).toBe(5);
  });

  it('starts the backoff over after forget', async () => {
    const clock = new FakeClock();
    const { queue } = newQueue(clock);
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    expect(queue.numRequeues('a')).toBe(3);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    await clock.advance(5);
    expect(queue.len()).toBe(1); // the earliest pending delay (5 ms) won
    await queue.get();
    queue.done('a');
    queue.addRateLimited('a');
    await clock.advance(4);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('keeps the earliest time when an item is delayed twice', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 100);
    queue.addAfter('a', 500);
    expect(queue.delayed()).toBe(1);
    await clock.advance(100);
    expect(queue.len()).toBe(1);
    await queue.get();
    queue.done('a');
    await clock.advance(10_000);
    expect(queue.len()).toBe(0);
  });

  it('limits overall throughput with the token bucket (10 qps after a burst of 100)', async () => {
    const clock = new FakeClock();
    const { queue } = newQueue(clock);
    for (let i = 0; i < 150; i++) queue.addRateLimited(`item-${i}`);
    await clock.advance(5); // every item's own backoff is 5 ms
    expect(queue.len()).toBe(100);
    await clock.advance(1000 - 5);
    expect(queue.len()).toBe(110);
    await clock.advance(4000);
    expect(queue.len()).toBe(150);
  });

  describe('shutdown', () => {
    it('ignores new items, cancels delayed ones and resolves waiting workers', async () => {
      const { queue, clock } = newQueue();
      const waiting = pendingGet(queue);
      queue.addAfter('later', 100);
      queue.shutDown();
      await flushMicrotasks();
      expect(waiting).toEqual({ settled: true, item: undefined });
      queue.add('new');
      queue.addRateLimited('new');
      await clock.advance(1000);
      expect(queue.len()).toBe(0);
      expect(clock.pendingTimers()).toBe(0);
      expect(await queue.get()).toBeUndefined();
    });

    it('drains: still hands out queued items and waits until every item is done', async () => {
      const { queue } = newQueue();
      queue.add('a');
      queue.add('b');
      const a = await queue.get();
      queue.add('a'); // dirty while processing
      let drained = false;
      const drain = queue.shutDownWithDrain().then(() => (drained = true));

      expect(await queue.get()).toBe('b');
      queue.done(a!);
      await flushMicrotasks();
      expect(drained).toBe(false);
      // 'a' was added before the shutdown while it was processed: it is handed out once more.
      expect(await queue.get()).toBe('a');
      queue.done('b');
      await flushMicrotasks();
      expect(drained).toBe(false);
      queue.done('a');
      await drain;
      expect(drained).toBe(true);
      expect(await queue.get()).toBeUndefined();
    });

    it('drains immediately when idle', async () => {
      const { queue } = newQueue();
      await expect(queue.shutDownWithDrain()).resolves.toBeUndefined();
    });
  });

  it('exports controller-runtime workqueue metrics', async () => {
    const { queue, clock, metrics } = newQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(await metricValue(metrics, 'workqueue_adds_total')).toBe(2);
    expect(await metricValue(metrics, 'workqueue_depth')).toBe(2);
    await clock.advance(250);
    await queue.get();
    expect(await metricValue(metrics, 'workqueue_depth')).toBe(1);
    await clock.advance(1500);
    expect(await metricValue(metrics, 'workqueue_unfinished_work_seconds')).toBeCloseTo(1.5);
    expect(await metricValue(metrics, 'workqueue_longest_running_processor_seconds')).toBeCloseTo(1.5);
    queue.done('a');
    queue.addRateLimited('a');
    expect(await metricValue(metrics, 'workqueue_retries_total')).toBe(1);
    expect(await metricValue(metrics, 'workqueue_unfinished_work_seconds')).toBe(0);

    const text = await metrics.registry.metrics();
    expect(text).toContain('workqueue_queue_duration_seconds_bucket{le="1",name="test"} 1');
    expect(text).toContain('workqueue_work_duration_seconds_sum{name="test"} 1.5');
  });
});
