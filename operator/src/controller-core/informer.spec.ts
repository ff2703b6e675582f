import { Informer, type InformerHandler } from './informer';
import { KubeApiError, KubeClient } from './kube-client';
import { SECRETS, type KubeObject } from './resource';
import { FakeClock, flushMicrotasks } from './testing/fake-clock';
import { configMap, FakeListWatch, list } from './testing/fake-list-watch';

type ConfigMap = ReturnType<typeof configMap>;

const gone = () =>
  new KubeApiError(410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }, 'GET', '/api');

function recorder() {
  const events: string[] = [];
  const handler: InformerHandler<ConfigMap> = {
    onAdd: (o) => events.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onUpdate: (old, o) => events.push(`update ${o.metadata.name}@${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`),
    onDelete: (o, unknown) => events.push(`delete ${o.metadata.name}${unknown ? ' (final state unknown)' : ''}`),
    onResync: (o) => events.push(`resync ${o.metadata.name}`),
  };
  return { events, handler };
}

function setup(options: { resyncPeriodMs?: number } = {}) {
  const clock = new FakeClock();
  const listWatch = new FakeListWatch<ConfigMap>();
  const informer = Informer.create<ConfigMap>({
    name: 'configmaps',
    listWatch,
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    clock,
    random: () => 0,
    minWatchTimeoutSeconds: 300,
    backoff: { jitter: 0 },
  });
  const { events, handler } = recorder();
  informer.addHandler(handler);
  return { clock, listWatch, informer, events };
}

describe('Informer', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('lists, then watches from the list resourceVersion with bookmarks, and keeps the cache current', async () => {
    const { listWatch, informer, events } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('100', [configMap('a', '90'), configMap('b', '95')]));
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    await flushMicrotasks();

    expect(listWatch.current.options).toEqual({ resourceVersion: '100', allowWatchBookmarks: true, timeoutSeconds: 300 });
    listWatch.current.events.push({ type: 'ADDED', object: configMap('c', '101') });
    listWatch.current.events.push({ type: 'MODIFIED', object: configMap('a', '102', { k: 'v' }) });
    listWatch.current.events.push({ type: 'DELETED', object: configMap('b', '103') });
    await flushMicrotasks();

    expect(events).toEqual(['add a@90', 'add b@95', 'add c@101', 'update a@90->102', 'delete b']);
    expect(informer.keys().sort()).toEqual(['ns/a', 'ns/c']);
    expect(informer.get('ns/a')?.data).toEqual({ k: 'v' });
    expect(informer.lastSyncResourceVersion()).toBe('103');
  });

  it('follows continue tokens through a paginated list', async () => {
    const { listWatch, informer } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('50', [configMap('a', '1')], 'token-1'), list('50', [configMap('b', '2')]));
    informer.start();
    await informer.waitForSync();
    expect(listWatch.listCalls).toEqual([{ limit: 500, continue: undefined }, { limit: 500, continue: 'token-1' }]);
    expect(informer.keys()).toEqual(['ns/a', 'ns/b']);
  });

  it('resumes after the watch ends from the last resourceVersion, including one from a bookmark', async () => {
    const { listWatch, informer, events } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('100', []));
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();

    listWatch.current.events.push({ type: 'ADDED', object: configMap('a', '105') });
    listWatch.current.events.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '180' } } });
    listWatch.current.events.end(); // the server's timeoutSeconds
    await flushMicrotasks();

    expect(listWatch.watches).toHaveLength(2);
    expect(listWatch.current.options.resourceVersion).toBe('180');
    expect(listWatch.listCalls).toHaveLength(1); // resumed, not relisted
    expect(informer.stats.bookmarks).toBe(1);
    expect(events).toEqual(['add a@105']); // bookmarks are not changes
  });

  it('relists after a 410 Gone ERROR event and reports what changed meanwhile', async () => {
    const { listWatch, informer, events } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('100', [configMap('a', '10'), configMap('b', '20')]));
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    events.length = 0;

    // Meanwhile a was deleted, b changed and c was created.
    listWatch.answerList(list('300', [configMap('b', '250'), configMap('c', '260')]));
    listWatch.current.events.push({
      type: 'ERROR',
      object: { kind: 'Status', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 100 (200)' },
    });
    await flushMicrotasks();

    expect(listWatch.listCalls).toHaveLength(2);
    expect(informer.stats.relistsAfterGone).toBe(1);
    expect(events).toEqual(['delete a (final state unknown)', 'update b@20->250', 'add c@260']);
    expect(listWatch.current.options.resourceVersion).toBe('300');
  });

  it('relists when the watch request itself is answered 410', async () => {
    const { listWatch, informer } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('100', []), list('400', [configMap('x', '399')]));
    listWatch.failNextWatch(gone());
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    expect(listWatch.listCalls).toHaveLength(2);
    expect(listWatch.watches).toHaveLength(2);
    expect(listWatch.current.options.resourceVersion).toBe('400');
    expect(informer.keys()).toEqual(['ns/x']);
  });

  it('backs off and watches again from the same resourceVersion after a dropped connection', async () => {
    const { listWatch, informer, clock } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('100', []));
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    listWatch.current.events.push({ type: 'ADDED', object: configMap('a', '120') });
    listWatch.current.events.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await flushMicrotasks();
    expect(listWatch.watches).toHaveLength(1);

    await clock.advance(799);
    expect(listWatch.watches).toHaveLength(1);
    await clock.advance(1);
    expect(listWatch.watches).toHaveLength(2);
    expect(listWatch.current.options.resourceVersion).toBe('120');
    expect(listWatch.listCalls).toHaveLength(1);
    expect(informer.stats.errors).toBe(1);
  });

  it('retries a failed initial list with backoff before it reports synced', async () => {
    const { listWatch, informer, clock } = setup();
    stop = () => informer.stop();
    listWatch.answerList(new Error('connect ECONNREFUSED'), list('7', []));
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(800);
    expect(informer.hasSynced()).toBe(true);
  });

  it('resyncs every cached object on the configured period, and never when it is 0', async () => {
    const withResync = setup({ resyncPeriodMs: 60_000 });
    stop = () => withResync.informer.stop();
    withResync.listWatch.answerList(list('1', [configMap('a', '1'), configMap('b', '1')]));
    withResync.informer.start();
    await withResync.informer.waitForSync();
    withResync.events.length = 0;
    await withResync.clock.advance(59_999);
    expect(withResync.events).toEqual([]);
    await withResync.clock.advance(1);
    expect(withResync.events).toEqual(['resync a', 'resync b']);
    await withResync.clock.advance(60_000);
    expect(withResync.events).toHaveLength(4);

    const without = setup({ resyncPeriodMs: 0 });
    without.listWatch.answerList(list('1', [configMap('a', '1')]));
    without.informer.start();
    await without.informer.waitForSync();
    await without.clock.advance(24 * 3600_000);
    expect(without.events).toEqual(['add a@1']);
    await without.informer.stop();
  });

  it('replays the cache to a handler added after sync, and stops calling an unsubscribed one', async () => {
    const { listWatch, informer } = setup();
    stop = () => informer.stop();
    listWatch.answerList(list('5', [configMap('a', '5')]));
    informer.start();
    await informer.waitForSync();
    const late = recorder();
    const unsubscribe = informer.addHandler(late.handler);
    expect(late.events).toEqual(['add a@5']);
    unsubscribe();
    await flushMicrotasks();
    listWatch.current.events.push({ type: 'ADDED', object: configMap('b', '6') });
    await flushMicrotasks();
    expect(late.events).toEqual(['add a@5']);
  });

  it('keeps going when a handler throws', async () => {
    const { listWatch, informer, events } = setup();
    stop = () => informer.stop();
    informer.addHandler({ onAdd: () => { throw new Error('boom'); } });
    listWatch.answerList(list('5', [configMap('a', '5')]));
    informer.start();
    await informer.waitForSync();
    expect(events).toEqual(['add a@5']);
  });

  it('stops its watch and resolves waiters when stopped', async () => {
    const { listWatch, informer, clock } = setup({ resyncPeriodMs: 1000 });
    listWatch.answerList(list('5', []));
    informer.start();
    await informer.waitForSync();
    await flushMicrotasks();
    await informer.stop();
    expect(listWatch.current.signal.aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('requires an explicit resync period', () => {
    expect(() => Informer.create<KubeObject>({ name: 'x', listWatch: new FakeListWatch(), resyncPeriodMs: -1 })).toThrow(
      /resyncPeriodMs must be 0 \(no resync\) or a positive number/,
    );
  });

  it('refuses to cache Secrets without a label selector', () => {
    const client = KubeClient.create({ connection: { server: 'https://127.0.0.1:1' } });
    expect(() => Informer.forResource(client, SECRETS, { resyncPeriodMs: 0 })).toThrow(
      /Refusing to watch Secrets without a label selector/,
    );
    expect(() =>
      Informer.forResource(client, SECRETS, { resyncPeriodMs: 0, labelSelector: 'app.kubernetes.io/managed-by=rallyforge-operator' }),
    ).not.toThrow();
    client.close();
  });
});
