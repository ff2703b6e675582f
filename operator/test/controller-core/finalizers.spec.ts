import { addFinalizer, hasFinalizer, isBeingDeleted, removeFinalizer } from '../../src/controller-core/finalizers';
import { isConflict } from '../../src/controller-core/kube-client';
import { CONFIG_MAPS, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, type TestCluster } from '../support/test-cluster';

const FINALIZER = 'rallyforge.io/test-cleanup';

describe('Finalizer helpers against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let configMaps: ResourceClient<KubeObject>;

  beforeAll(async () => {
    cluster = await connectTestCluster('finalizers');
    configMaps = new ResourceClient<KubeObject>(cluster.client, CONFIG_MAPS);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(() => cluster?.close());

  it('adds a finalizer once, holds deletion until it is removed, then the object is gone', async () => {
    const created = await configMaps.create({ metadata: { name: 'guarded', namespace: cluster.namespace, finalizers: ['example.com/other'] } });
    const guarded = await addFinalizer(configMaps, created, FINALIZER);
    expect(guarded.metadata.finalizers).toEqual(['example.com/other', FINALIZER]);
    expect(await addFinalizer(configMaps, guarded, FINALIZER)).toBe(guarded); // no write when present

    await configMaps.delete('guarded', cluster.namespace);
    const deleting = await configMaps.get('guarded', cluster.namespace);
    expect(isBeingDeleted(deleting)).toBe(true);
    await expect(addFinalizer(configMaps, { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } }, 'x/y')).rejects.toThrow(
      /it is being deleted/,
    );

    const released = await removeFinalizer(configMaps, deleting, FINALIZER);
    expect(released && hasFinalizer(released, FINALIZER)).toBe(false);
    expect(released?.metadata.finalizers).toEqual(['example.com/other']);
    // Removing the last finalizer lets the API server delete the object.
    expect(await removeFinalizer(configMaps, released!, 'example.com/other')).toBeDefined();
    expect(await configMaps.find('guarded', cluster.namespace)).toBeUndefined();
  });

  it('refuses to overwrite a finalizer list that changed since it was read', async () => {
    const stale = await configMaps.create({ metadata: { name: 'raced', namespace: cluster.namespace } });
    await configMaps.patch('raced', cluster.namespace, { metadata: { finalizers: ['example.com/theirs'] } }, { type: 'merge' });
    const error = await addFinalizer(configMaps, stale, FINALIZER).catch((e: unknown) => e);
    expect(isConflict(error)).toBe(true);
    const fresh = await configMaps.get('raced', cluster.namespace);
    expect((await addFinalizer(configMaps, fresh, FINALIZER)).metadata.finalizers).toEqual(['example.com/theirs', FINALIZER]);
    const cleared = await removeFinalizer(configMaps, await configMaps.get('raced', cluster.namespace), FINALIZER);
    await removeFinalizer(configMaps, cleared!, 'example.com/theirs');
  });
});
