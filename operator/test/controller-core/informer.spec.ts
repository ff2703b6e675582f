import { Informer, listWatchFor } from '../../src/controller-core/informer';
import { CONFIG_MAPS, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { RecordingListWatch } from '../support/recording-list-watch';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, eventually, type TestCluster } from '../support/test-cluster';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const LABEL = 'rallyforge.io/informer-test';
const SELECTOR = `${LABEL}=yes`;

describe('Informer against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let configMaps: ResourceClient<ConfigMap>;
  const informers: Informer<ConfigMap>[] = [];

  beforeAll(async () => {
    cluster = await connectTestCluster('informer');
    configMaps = new ResourceClient<ConfigMap>(cluster.client, CONFIG_MAPS);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await cluster?.close();
  });

  function startInformer(options: { minWatchTimeoutSeconds?: number; namespace?: string; random?: () => number } = {}) {
    const listWatch = new RecordingListWatch(
      listWatchFor<ConfigMap>(configMaps, { namespace: options.namespace ?? cluster.namespace, labelSelector: SELECTOR }),
    );
    const informer = Informer.create<ConfigMap>({
      name: 'configmaps',
      listWatch,
      resyncPeriodMs: 0,
      minWatchTimeoutSeconds: options.minWatchTimeoutSeconds,
      random: options.random,
      backoff: { initialMs: 300, jitter: 0 },
    });
    const events: string[] = [];
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata.name}`),
      onUpdate: (_, o) => events.push(`update ${o.metadata.name}:${JSON.stringify(o.data ?? {})}`),
      onDelete: (o, unknown) => events.push(`delete ${o.metadata.name}${unknown ? ' (relist)' : ''}`),
    });
    informers.push(informer);
    informer.start();
    return { informer, listWatch, events };
  }

  const labelled = (name: string, data: Record<string, string> = {}, namespace = cluster.namespace): ConfigMap => ({
    metadata: { name, namespace, labels: { [LABEL]: 'yes' } },
    data,
  });

  it('lists then watches only labelled ConfigMaps and sees add, update and delete', async () => {
    await configMaps.create(labelled('pre-existing'));
    await configMaps.create({ metadata: { name: 'not-ours', namespace: cluster.namespace }, data: {} });
    const { informer, events } = startInformer();
    expect(await informer.waitForSync()).toBe(true);
    expect(informer.keys()).toEqual([`${cluster.namespace}/pre-existing`]);
    expect(informer.get(`${cluster.namespace}/pre-existing`)?.kind).toBe('ConfigMap');

    await configMaps.create(labelled('created'));
    await configMaps.patch('created', cluster.namespace, { data: { answer: '42' } }, { type: 'merge' });
    await configMaps.delete('created', cluster.namespace);
    // Removing the label takes the object out of the selector: the watch reports it deleted.
    await configMaps.patch('pre-existing', cluster.namespace, { metadata: { labels: { [LABEL]: null } } }, { type: 'merge' });
    await configMaps.patch('not-ours', cluster.namespace, { data: { ignored: 'yes' } }, { type: 'merge' });

    await eventually(() => events.length >= 5, 10_000, 'five events');
    expect(events).toEqual([
      'add pre-existing',
      'add created',
      'update created:{"answer":"42"}',
      'delete created',
      'delete pre-existing',
    ]);
    expect(informer.keys()).toEqual([]);
  });

  it('resumes from the last resourceVersion after the watch is cut, without relisting', async () => {
    const namespace = cluster.namespace;
    const { informer, listWatch, events } = startInformer();
    await informer.waitForSync();
    await configMaps.create(labelled('before-cut'));
    await eventually(() => informer.get(`${namespace}/before-cut`), 10_000, 'before-cut in the cache');
    const versionBeforeCut = informer.lastSyncResourceVersion();

    listWatch.cutWatch();
    // Changed while the informer is disconnected (its backoff is 300 ms): the resumed watch must replay it.
    await configMaps.create(labelled('during-cut'));
    await eventually(() => informer.get(`${namespace}/during-cut`), 10_000, 'during-cut in the cache');

    expect(listWatch.lists).toHaveLength(1);
    expect(listWatch.watches.length).toBeGreaterThanOrEqual(2);
    expect(listWatch.watches[1]!.resourceVersion).toBe(versionBeforeCut);
    expect(events.filter((e) => e.startsWith('add during-cut'))).toHaveLength(1);
    expect(informer.stats.errors).toBe(1);
  });

  it('resumes after the server ends the watch (timeoutSeconds), from the version its bookmarks carried', async () => {
    // Watches of 7 s (5 s × 1.5): kube-apiserver's watch cache sends a bookmark 2 s before a watch's deadline,
    // carrying the newest version it has processed for the kind, if that is newer than the watch's.
    const { informer, listWatch, events } = startInformer({ minWatchTimeoutSeconds: 5, random: () => 0.5 });
    await informer.waitForSync();
    events.length = 0; // objects earlier tests left behind
    const listedAt = informer.lastSyncResourceVersion()!;
    // A change the selector hides: no event reaches the informer, but a bookmark moves it past this version.
    const hidden = await configMaps.create({ metadata: { name: 'hidden-change', namespace: cluster.namespace }, data: {} });
    const hiddenVersion = Number(hidden.metadata.resourceVersion);

    await eventually(
      () => listWatch.watches.slice(1).some((w) => Number(w.resourceVersion) >= hiddenVersion),
      45_000,
      'a watch resumed from a bookmark past the hidden change',
    );
    expect(listWatch.watches[0]!.resourceVersion).toBe(listedAt);
    expect(listWatch.watches.every((w) => w.timeoutSeconds === 7)).toBe(true);
    expect(listWatch.lists).toHaveLength(1); // resumed after every timeout, never relisted
    expect(informer.stats.bookmarks).toBeGreaterThan(0);
    expect(events).toEqual([]);
  }, 90_000);

  // The 410 relist path is tested against a fake list-watch in src/controller-core/informer.spec.ts. Against this
  // real server it cannot be provoked in bounded time: a young apiserver keeps serving watches from
  // resourceVersion 1 (tried with 30 s etcd compaction too), and only a cluster that has run for a while answers 410.
});
