/**
 * The operator under the operator chart's own RBAC, on the real API server: the chart's ServiceAccount, ClusterRole,
 * Role and bindings (rendered by `helm template`) are installed, and the operator runs as that ServiceAccount
 * (impersonated). It must create a shared and a dedicated tenant, keep its lease, and delete both, with no verb more
 * than the chart grants; and the ServiceAccount must not be able to do what an operator has no business doing.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Applier, connectionFromKubeConfig, KubeClient, loadKubeConfig, ResourceClient, type KubeObject, type ResourceType } from '../../src/controller-core';
import { CLUSTER_TIMEOUT_MS } from '../support/test-cluster';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, type TenantHarness } from './tenant-harness';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const rbac = (kind: string, plural: string, namespaced: boolean): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', kind, plural, namespaced });
/** What the chart's RBAC is made of (the operator itself manages none of the cluster-scoped ones). */
const RBAC_KINDS: Record<string, ResourceType> = {
  ServiceAccount: { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  ClusterRole: rbac('ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: rbac('ClusterRoleBinding', 'clusterrolebindings', false),
  Role: rbac('Role', 'roles', true),
  RoleBinding: rbac('RoleBinding', 'rolebindings', true),
};
const kindOf = (object: KubeObject): ResourceType => RBAC_KINDS[object.kind!]!;

/** The chart's RBAC objects for release `release` in `namespace`, as `helm template` renders them. */
function chartRbac(release: string, namespace: string): KubeObject[] {
  const binDirs = execFileSync('bash', [join(REPO_ROOT, 'tools', 'k8s', 'build-tools.sh'), '--bin-dirs'], { encoding: 'utf8' }).trim().split('\n');
  const helm = join(binDirs.find((dir) => dir.includes('helm'))!, 'helm');
  const rendered = execFileSync(helm, ['template', release, join(REPO_ROOT, 'charts', 'rallyforge-operator'), '-n', namespace], { encoding: 'utf8' });
  return parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as KubeObject)
    .filter((object) => object && (object.kind ?? '') in RBAC_KINDS)
    .map((object) => ({ ...object, metadata: { ...object.metadata, namespace: object.kind?.startsWith('Cluster') ? undefined : namespace } }));
}

describe('the operator with exactly the operator chart\'s RBAC (impersonating its ServiceAccount)', () => {
  let harness: TenantHarness;
  let asOperator: KubeClient;
  let installed: KubeObject[] = [];
  const release = `rbac${randomBytes(2).toString('hex')}`;

  beforeAll(async () => {
    harness = await createTenantHarness('rbac');
    const namespace = harness.cluster.namespace;
    installed = chartRbac(release, namespace);
    const applier = Applier.create({ client: harness.cluster.client, fieldManager: 'rallyforge-test' });
    for (const object of installed) await applier.apply(kindOf(object), object);
    const account = installed.find((o) => o.kind === 'ServiceAccount')!.metadata.name!;
    // The admin's credentials, asking the API server to act as the ServiceAccount (with its groups): every request
    // is then authorised against the chart's roles only.
    const admin = await connectionFromKubeConfig(loadKubeConfig(harness.cluster.kubeconfig));
    asOperator = KubeClient.create({
      connection: {
        ...admin,
        authenticate: async () => ({
          ...(await admin.authenticate?.()),
          'Impersonate-User': `system:serviceaccount:${namespace}:${account}`,
          'Impersonate-Group': ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] as unknown as string,
        }),
      },
      qps: 200,
      burst: 400,
    });
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await harness?.close();
    const admin = harness?.cluster.client;
    if (admin) {
      for (const object of installed.filter((o) => o.kind?.startsWith('Cluster'))) {
        await new ResourceClient<KubeObject>(admin, kindOf(object)).delete(object.metadata.name!).catch(() => undefined);
      }
    }
    asOperator?.close();
  }, CLUSTER_TIMEOUT_MS);

  it('provisions a shared and a dedicated tenant, leads through the chart\'s Lease, and deletes both', async () => {
    const operator = await harness.startOperator({ client: asOperator, leaderElection: true, leaseName: `${release}-operator-leader` });
    try {
      const shared = harness.tenantId('shared');
      const dedicated = harness.tenantId('dedicated');
      await harness.create(harness.manifest(shared, { tier: 'shared' }));
      await harness.create(harness.manifest(dedicated, { tier: 'dedicated' }));
      const ready = await harness.waitForCondition(dedicated, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      expect(ready.status?.conditions?.filter((c) => c.status !== 'True')).toEqual([]);
      await harness.waitForCondition(shared, 'Ready', 'True');
      expect((await harness.events(dedicated)).map((e) => e.reason)).toContain('Ready');

      await harness.tenants.delete(shared);
      await harness.tenants.delete(dedicated);
      await harness.waitForGone(shared);
      await harness.waitForGone(dedicated, DEDICATED_CONVERGE_TIMEOUT_MS);
      expect((await harness.events(dedicated).catch(() => [])).map((e) => e.reason)).not.toContain('CleanupFailed');
    } finally {
      await operator.stop();
    }
  }, CLUSTER_TIMEOUT_MS);

  it('is refused what the operator never needs: writing pods or exec into them, nodes, other Leases, cluster-wide RBAC, the CRD itself', async () => {
    const refused = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) =>
      asOperator.request({ method, path, body }).then(
        () => 'allowed',
        (error: { statusCode?: number }) => (error.statusCode === 403 ? 'forbidden' : `status ${error.statusCode}`),
      );
    const namespace = harness.cluster.namespace;
    expect(await refused('POST', `/api/v1/namespaces/${namespace}/pods`, { metadata: { name: 'x' } })).toBe('forbidden');
    expect(await refused('POST', `/api/v1/namespaces/${namespace}/pods/some-pod/exec`)).toBe('forbidden');
    expect(await refused('DELETE', `/api/v1/namespaces/${namespace}/pods/some-pod`)).toBe('forbidden');
    expect(await refused('GET', '/api/v1/nodes')).toBe('forbidden');
    expect(await refused('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/some-other-lease`)).toBe('forbidden');
    expect(await refused('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { metadata: { name: 'x' } })).toBe('forbidden');
    expect(await refused('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/rallyforgetenants.rallyforge.io')).toBe('forbidden');
  });
});
