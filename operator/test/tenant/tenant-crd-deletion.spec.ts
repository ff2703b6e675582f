/**
 * Deleting the RallyForgeTenant CRD deletes every tenant object in the cluster; that must never delete a tenant's
 * data (the reconciler's crdBeingDeleted branch), and re-creating the CRD and the tenant adopts what was kept.
 *
 * On a control plane of its own (startPrivateCluster): on the shared one, deleting the CRD would delete the tenants
 * of every spec file running at the same time, of a bench and of a developer's `npm run up`. The servers behind the
 * tenants (PostgreSQL, RabbitMQ, Redis) are the shared ones, with this run's own tenant ids. tools/bin/test still
 * runs it after the others (ISOLATED), for the CPU a second control plane takes on a small machine.
 */
import { ResourceClient, type KubeObject } from '../../src/controller-core';
import { CUSTOM_RESOURCE_DEFINITIONS, TENANT_CRD_NAME } from '../../src/tenant/tenant-api';
import { CLUSTER_TIMEOUT_MS, eventually, startPrivateCluster, type PrivateCluster } from '../support/test-cluster';
import { DATA_SERVICES, TenantBackends, withPostgres } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, installCrd, type TenantHarness } from './tenant-harness';

/** The operator's tenant informer backs off (up to 30 s) while the CRD is gone, then lists again. */
const INFORMER_RECOVERY_TIMEOUT_MS = 120_000;

describe('Deleting the RallyForgeTenant CRD (on a private control plane)', () => {
  let cluster: PrivateCluster | undefined;
  let harness: TenantHarness | undefined;
  let backends: TenantBackends;
  let crds: ResourceClient<KubeObject>;

  beforeAll(async () => {
    cluster = await startPrivateCluster('crd-deletion');
    harness = await createTenantHarness('crd', { kubeconfig: cluster.kubeconfig });
    backends = TenantBackends.create(harness);
    crds = new ResourceClient<KubeObject>(harness.cluster.client, CUSTOM_RESOURCE_DEFINITIONS);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    // The harness purges the tenant's data whether or not the CRD is back; then the control plane goes.
    await harness?.close();
    await cluster?.destroy();
  }, 300_000);

  it("keeps every tenant's namespace, credentials and data (even with deletionPolicy Delete); the re-created tenant adopts them", async () => {
    const h = harness!;
    const operator = await h.startOperator();
    const id = h.tenantId('kept');
    const namespace = `rf-${id}`;
    const manifest = () => h.manifest(id, { tier: 'dedicated', admins: [`admin@${id}.example.org`] }, { deletionPolicy: 'Delete' });
    try {
      await h.create(manifest());
      await h.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      const secret = (await backends.secret(id))!;
      await withPostgres(backends, secret.CLAIMS_MIGRATION_DATABASE_URL!, async (c) => {
        await c.query('create table notes (body text)');
        await c.query("insert into notes values ('kept')");
      });
      await (await backends.redis(secret.REDIS_URL!)).set(`t:${id}:kept`, 'kept');

      // The API server marks every tenant deleted and waits for their finalizers: the operator must let them go
      // without running the deletion policy, or the CRD would never go (and the data would).
      await crds.delete(TENANT_CRD_NAME);
      await eventually(async () => (await crds.find(TENANT_CRD_NAME)) === undefined, 60_000, 'the CRD to be gone');

      // Nothing of the tenant was touched: not even its logins were disabled.
      expect((await backends.namespace(id))?.metadata.deletionTimestamp).toBeUndefined();
      expect(await backends.secret(id)).toEqual(secret);
      expect((await backends.postgresObjects(id)).roles.filter((r) => r.login)).toHaveLength(DATA_SERVICES.length * 2);
      expect(await withPostgres(backends, secret.CLAIMS_DATABASE_URL!, async (c) => (await c.query('select body from notes')).rows)).toEqual([{ body: 'kept' }]);
      expect(await backends.rabbitObjects(id)).toEqual({ vhosts: [namespace], users: [namespace] });
      await (await backends.amqp(secret.AMQP_URL!)).close();
      expect(await (await backends.redis(secret.REDIS_URL!)).get(`t:${id}:kept`)).toBe('kept');
      expect((await h.authEnv.sql.query('select suspended from organisations where id = $1', [id])).rows).toEqual([{ suspended: false }]);
      expect((await h.events(id)).find((e) => e.reason === 'DefinitionDeleted')).toMatchObject({
        type: 'Warning',
        message: `The RallyForgeTenant CRD is being deleted: tenant ${id}'s namespace, credentials and data are kept. Re-create the CRD and the tenant to adopt them.`,
      });

      // The CRD again (as the chart re-installs it), then the tenant again: the running operator picks both up.
      await installCrd(h.cluster);
      await h.create(manifest());
      await h.waitForCondition(id, 'Ready', 'True', INFORMER_RECOVERY_TIMEOUT_MS);
      // Adopted, not re-provisioned: the same passwords, the same rows.
      expect(await backends.secret(id)).toEqual(secret);
      expect(await withPostgres(backends, secret.CLAIMS_DATABASE_URL!, async (c) => (await c.query('select body from notes')).rows)).toEqual([{ body: 'kept' }]);

      // An ordinary deletion is still one: with policy Delete, the data goes now.
      await h.tenants.delete(id);
      await h.waitForGone(id);
      expect(await backends.postgresObjects(id)).toEqual({ databases: [], roles: [] });
      expect(await backends.rabbitObjects(id)).toEqual({ vhosts: [], users: [] });
      expect(await backends.redisUsers(id)).toEqual([]);
    } finally {
      await operator.stop();
    }
  });
});
