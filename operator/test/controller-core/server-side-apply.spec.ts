import { CONFIG_MAPS, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { ApplyConflictError, Applier, MANAGED_BY_LABEL } from '../../src/controller-core/server-side-apply';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, type TestCluster } from '../support/test-cluster';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

describe('Server-side apply against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let applier: Applier;
  let configMaps: ResourceClient<ConfigMap>;

  beforeAll(async () => {
    cluster = await connectTestCluster('ssa');
    applier = Applier.create({ client: cluster.client });
    configMaps = new ResourceClient<ConfigMap>(cluster.client, CONFIG_MAPS);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(() => cluster?.close());

  const desired = (name: string, data: Record<string, string>): ConfigMap => ({
    metadata: { name, namespace: cluster.namespace },
    data,
  });

  it('creates, labels and records ownership; applying the same configuration again writes nothing', async () => {
    const first = await applier.apply(CONFIG_MAPS, desired('idempotent', { tier: 'shared' }));
    expect(first.metadata.labels).toEqual({ [MANAGED_BY_LABEL]: 'rallyforge-operator' });
    expect(first.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'rallyforge-operator', operation: 'Apply' }),
    ]);

    const second = await applier.apply(CONFIG_MAPS, desired('idempotent', { tier: 'shared' }));
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);

    // A changed configuration is a real write; a field no longer applied is removed.
    const third = await applier.apply(CONFIG_MAPS, desired('idempotent', { tier: 'dedicated' }));
    expect(third.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    expect(third.data).toEqual({ tier: 'dedicated' });
  });

  it('reports a conflict with another field manager, and takes the field over when forced', async () => {
    await applier.apply(CONFIG_MAPS, desired('contested', { owner: 'operator' }));
    // Someone edits the operator's field by hand (kubectl edit is an update by the kubectl-edit manager).
    await configMaps.patch('contested', cluster.namespace, { data: { owner: 'human' } }, { type: 'merge', fieldManager: 'kubectl-edit' });

    let conflict: unknown;
    try {
      await applier.apply(CONFIG_MAPS, desired('contested', { owner: 'operator' }), { force: false });
    } catch (error) {
      conflict = error;
    }
    expect(conflict).toBeInstanceOf(ApplyConflictError);
    expect((conflict as ApplyConflictError).conflicts).toEqual([
      expect.objectContaining({ manager: 'kubectl-edit', field: '.data.owner' }),
    ]);
    expect((conflict as Error).message).toMatch(/\.data\.owner \(owned by kubectl-edit\).*apply with force/);

    // The operator's default is to force: drift is corrected.
    const corrected = await applier.apply(CONFIG_MAPS, desired('contested', { owner: 'operator' }));
    expect(corrected.data).toEqual({ owner: 'operator' });
  });

  it('drops server-populated metadata from an apply configuration and validates it', async () => {
    const live = await applier.apply(CONFIG_MAPS, desired('reapplied', { a: '1' }));
    // Re-applying the live object (with resourceVersion, uid, managedFields) works like applying the intent.
    const again = await applier.apply(CONFIG_MAPS, { ...live, data: { a: '1' } });
    expect(again.metadata.resourceVersion).toBe(live.metadata.resourceVersion);

    await expect(applier.apply(CONFIG_MAPS, { metadata: { name: 'no-namespace' } })).rejects.toThrow(/is namespaced/);
    await expect(
      applier.apply(CONFIG_MAPS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'y' } }),
    ).rejects.toThrow(/pass the matching ResourceType/);
  });
});
