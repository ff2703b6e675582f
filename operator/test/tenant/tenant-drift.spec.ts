/**
 * Drift: what someone changes or deletes by hand is put back by the operator (TENANCY.md "Lifecycle"), Kubernetes
 * objects on watch events, external systems on the periodic resync. Against the real control plane and servers.
 */
import { connectionFromKubeConfig, KubeClient, loadKubeConfig, ResourceClient, SECRETS, type ResourceType } from '../../src/controller-core';
import { NETWORK_POLICIES, RESOURCE_QUOTAS } from '../../src/tenant/kinds';
import type { RallyForgeTenant } from '../../src/tenant/tenant-api';
import { CLUSTER_TIMEOUT_MS, eventually } from '../support/test-cluster';
import { rejection, sleep, TenantBackends, withPostgres, type Loose } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, type RunningTestOperator, type TenantHarness } from './tenant-harness';

/** Far beyond any wait in this file: what comes back before it came back on a watch event. */
const NO_RESYNC_MS = 30 * 60_000;
/** The external systems' resync in the second half of this file. */
const SHORT_RESYNC_MS = 2_000;
/** A repair on the resync: one period, the reconcile itself, and slack for a loaded machine. */
const RESYNC_REPAIR_TIMEOUT_MS = 30_000;

describe('RallyForgeTenant drift (real control plane, PostgreSQL, RabbitMQ, Redis)', () => {
  let harness: TenantHarness;
  let backends: TenantBackends;

  beforeAll(async () => {
    harness = await createTenantHarness('drift');
    backends = TenantBackends.create(harness);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    await harness?.close();
  }, 180_000);

  const client = (type: ResourceType) => new ResourceClient<Loose>(harness.cluster.client, type);
  const condition = (tenant: RallyForgeTenant, type: string) => tenant.status?.conditions?.find((c) => c.type === type);

  /**
   * Samples the tenant's conditions every 100 ms while `work` runs, and returns every distinct (type, status,
   * reason) seen that is not True: what a user watching `kubectl get rft -w` would have seen.
   */
  async function watchConditions(id: string, work: () => Promise<void>): Promise<string[]> {
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const tenant = await harness.tenants.get(id).catch(() => undefined);
        for (const c of tenant?.status?.conditions ?? []) if (c.status !== 'True') seen.add(`${c.type}=${c.status} ${c.reason}`);
        await sleep(100);
      }
    })();
    try {
      await work();
    } finally {
      sampling = false;
      await sampler;
    }
    return [...seen].sort();
  }

  /** The Ready condition's lastTransitionTime once it has stayed True, unchanged, for 3 s. */
  async function settledReadySince(id: string): Promise<string> {
    let since: string | undefined;
    let stableFrom = Date.now();
    return eventually(
      async () => {
        const ready = condition(await harness.tenants.get(id), 'Ready');
        if (ready?.status !== 'True' || ready.lastTransitionTime !== since) {
          since = ready?.status === 'True' ? ready.lastTransitionTime : undefined;
          stableFrom = Date.now();
          return undefined;
        }
        return Date.now() - stableFrom >= 3_000 ? since : undefined;
      },
      60_000,
      `tenant ${id} to stay Ready`,
    );
  }

  describe('Kubernetes objects come back on watch events (no resync in this operator)', () => {
    let operator: RunningTestOperator;
    let id: string;
    let namespace: string;

    beforeAll(async () => {
      operator = await harness.startOperator({ settings: { resyncPeriodMs: NO_RESYNC_MS } });
      id = harness.tenantId('k8s');
      namespace = `rf-${id}`;
      await harness.create(harness.manifest(id, { quota: { pods: 12 } }));
      await harness.waitForCondition(id, 'Ready', 'True');
    });

    afterAll(async () => {
      await harness.tenants.delete(id).catch(() => undefined);
      await harness.waitForGone(id).catch(() => undefined);
      await operator?.stop();
    });

    it('puts back a deleted NetworkPolicy, as it was', async () => {
      const before = await client(NETWORK_POLICIES).get('default-deny', namespace);
      await client(NETWORK_POLICIES).delete('default-deny', namespace);
      const back = await eventually(
        async () => {
          const policy = await client(NETWORK_POLICIES).find('default-deny', namespace);
          return policy && policy.metadata.uid !== before.metadata.uid ? policy : undefined;
        },
        20_000,
        'the default-deny NetworkPolicy to come back',
      );
      expect(back.spec).toEqual(before.spec);
      expect(back.metadata.labels).toEqual(before.metadata.labels);
      expect(condition(await harness.tenants.get(id), 'Ready')?.status).toBe('True');
    });

    it('puts back a ResourceQuota edited by hand and a Secret value changed by hand', async () => {
      await client(RESOURCE_QUOTAS).patch('tenant-quota', namespace, { spec: { hard: { pods: '500' } } }, { type: 'merge', fieldManager: 'someone-by-hand' });
      await eventually(async () => (await client(RESOURCE_QUOTAS).get('tenant-quota', namespace)).spec.hard.pods === '12', 20_000, 'the quota to be put back');

      const prefix = Buffer.from('t:someone-else:').toString('base64');
      await client(SECRETS).patch('rallyforge-tenant-credentials', namespace, { data: { REDIS_KEY_PREFIX: prefix } }, { type: 'merge', fieldManager: 'someone-by-hand' });
      await eventually(async () => (await backends.secret(id))?.REDIS_KEY_PREFIX === `t:${id}:`, 20_000, 'the Secret to be put back');
    });
  });

  describe('external systems are put back on the periodic resync', () => {
    let operator: RunningTestOperator;
    let id: string;
    let readySince: string | undefined;

    beforeAll(async () => {
      // Shared-tier checks are cached across tenants; short here, so that the RLS check is redone on each resync.
      operator = await harness.startOperator({ settings: { resyncPeriodMs: SHORT_RESYNC_MS }, sharedCheckTtlMs: 500 });
      id = harness.tenantId('ext');
      await harness.create(harness.manifest(id, { tier: 'dedicated' }));
      await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      // Let it settle first: the autoscalers bring each service to its minimum right after it became Available.
      readySince = await settledReadySince(id);
    });

    afterAll(async () => {
      await harness.tenants.delete(id).catch(() => undefined);
      await harness.waitForGone(id).catch(() => undefined);
      await operator?.stop();
    });

    it("restores a revoked vhost permission; ensure repairs before verify looks, so Ready never turns False", async () => {
      const user = `rf-${id}`;
      const secret = (await backends.secret(id))!;
      const seen = await watchConditions(id, async () => {
        await backends.management('DELETE', `/permissions/${user}/${user}`);
        // Revoked indeed: the tenant's own login is refused its vhost.
        expect((await rejection(backends.amqp(secret.AMQP_URL!))).message).toMatch(/Expected ConnectionOpenOk|NOT_ALLOWED|access to vhost/i);
        await eventually(
          async () => (await backends.management<Array<{ vhost: string; configure: string; write: string; read: string }>>('GET', `/users/${user}/permissions`))?.some(
            (p) => p.vhost === user && p.configure === '.*' && p.write === '.*' && p.read === '.*',
          ),
          RESYNC_REPAIR_TIMEOUT_MS,
          'the vhost permission to be restored',
        );
      });
      expect(seen).toEqual([]);
      const connection = await backends.amqp(secret.AMQP_URL!);
      await connection.close();
      expect(condition(await harness.tenants.get(id), 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: readySince });
    });

    it('re-creates a deleted Redis ACL user with the same password; the keys stayed', async () => {
      const secret = (await backends.secret(id))!;
      const admin = backends.redisAdmin();
      await admin.set(`t:${id}:kept`, 'value');
      const seen = await watchConditions(id, async () => {
        expect(await admin.call('ACL', 'DELUSER', `rf-${id}`)).toBe(1);
        expect((await rejection(backends.redis(secret.REDIS_URL!))).message).toMatch(/WRONGPASS|invalid username-password/i);
        await eventually(async () => (await backends.redisUsers(id)).length === 1, RESYNC_REPAIR_TIMEOUT_MS, 'the ACL user to be re-created');
      });
      expect(seen).toEqual([]);
      const tenantClient = await backends.redis(secret.REDIS_URL!);
      expect(await tenantClient.get(`t:${id}:kept`)).toBe('value');
      expect(condition(await harness.tenants.get(id), 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: readySince });
    });

    it("takes back a grant that opened the tenant's database to every role", async () => {
      const database = `rf_${id.replace(/-/g, '_')}_claims`;
      const publicCanConnect = async () =>
        (await backends.sql<{ open: boolean }>('postgres', `select exists (select 1 from pg_database d, aclexplode(d.datacl) a where d.datname = $1 and a.grantee = 0) as open`, [database]))[0]!.open;
      await backends.sql('postgres', `GRANT CONNECT ON DATABASE ${database} TO PUBLIC`);
      expect(await publicCanConnect()).toBe(true);
      await eventually(async () => !(await publicCanConnect()), RESYNC_REPAIR_TIMEOUT_MS, 'PUBLIC to lose CONNECT again');
      const secret = (await backends.secret(id))!;
      await withPostgres(backends, secret.CLAIMS_DATABASE_URL!, (c) => c.query('select 1'));
    });

    it("reports on the resync what ensure cannot repair (the platform's Row-Level Security), until it is fixed", async () => {
      // A shared tenant relies on the platform's databases (here auth's) forcing Row-Level Security.
      const shared = harness.tenantId('rls');
      await harness.create(harness.manifest(shared, {}));
      const table = 'invitations';
      try {
        await harness.waitForCondition(shared, 'Ready', 'True');
        await backends.sql(harness.authEnv.database.name, `ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
        // Nothing to repair on a resync: verify sees it and says what to do.
        const tenant = await harness.waitForCondition(shared, 'Database', 'False', RESYNC_REPAIR_TIMEOUT_MS, 'RowLevelSecurityMissing');
        expect(condition(tenant, 'Database')?.message).toBe(
          `Tables with a tenant_id column lack forced Row-Level Security, so shared-tier tenants are not isolated: ${harness.authEnv.database.name}.public.${table} ` +
            '(not forced). Run ALTER TABLE ... ENABLE ROW LEVEL SECURITY and ... FORCE ROW LEVEL SECURITY (with a tenant policy) in the migrations of the services that own them.',
        );
        expect(condition(tenant, 'Ready')).toMatchObject({ status: 'False', reason: 'LayersNotReady' });
        expect(condition(tenant, 'Ready')?.message).toContain('Database: Tables with a tenant_id column lack forced Row-Level Security');
        expect(tenant.status?.phase).toBe('Provisioning');
        expect((await harness.events(shared)).find((e) => e.reason === 'RowLevelSecurityMissing')).toMatchObject({ type: 'Warning' });
      } finally {
        await backends.sql(harness.authEnv.database.name, `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      }
      await harness.waitForCondition(shared, 'Ready', 'True', RESYNC_REPAIR_TIMEOUT_MS);
      await harness.tenants.delete(shared);
      await harness.waitForGone(shared);
    });

    it('re-creates a deleted credentials Secret whose credentials work everywhere (old ones refused if it had to rotate)', async () => {
      const secrets = client(SECRETS);
      const name = 'rallyforge-tenant-credentials';
      const namespace = `rf-${id}`;
      const uid = (await secrets.get(name, namespace)).metadata.uid;
      const before = (await backends.secret(id))!;
      await secrets.delete(name, namespace);
      await eventually(async () => {
        const secret = await secrets.find(name, namespace);
        return secret !== undefined && secret.metadata.uid !== uid;
      }, 20_000, 'the credentials Secret to be re-created');
      await harness.waitForCondition(id, 'Ready', 'True');
      const after = (await backends.secret(id))!;
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      // Whichever passwords it holds (a reconcile that read the Secret before the deletion writes the same ones back,
      // one that found none generates new ones), they are the ones every system accepts.
      await withPostgres(backends, after.AUTH_DATABASE_URL!, (c) => c.query('select 1'));
      await withPostgres(backends, after.DOCUMENTS_MIGRATION_DATABASE_URL!, (c) => c.query('select 1'));
      await (await backends.amqp(after.AMQP_URL!)).close();
      await backends.redis(after.REDIS_URL!);
      if (after.PASSWORD_RABBITMQ !== before.PASSWORD_RABBITMQ) {
        expect((await rejection(backends.postgres(before.AUTH_DATABASE_URL!))).code).toBe('28P01');
        expect((await rejection(backends.amqp(before.AMQP_URL!))).message).toMatch(/ACCESS_REFUSED/);
        expect((await rejection(backends.redis(before.REDIS_URL!))).message).toMatch(/WRONGPASS/);
      }
    });
  });

  describe('a converged tenant costs no writes', () => {
    it('issues no write on its resyncs, whatever spelling its quota uses (0.5 CPU is stored as 500m)', async () => {
      // The operator's own client, recording every request it makes.
      const client = KubeClient.create({ connection: await connectionFromKubeConfig(loadKubeConfig(harness.cluster.kubeconfig)), qps: 200, burst: 400 });
      const requests: string[] = [];
      const send = client.request.bind(client);
      client.request = (request) => {
        requests.push(`${request.method} ${request.path}`);
        return send(request);
      };
      const operator = await harness.startOperator({ client, settings: { resyncPeriodMs: 1_000 }, sharedCheckTtlMs: 0 });
      const id = harness.tenantId('steady');
      try {
        await harness.create(harness.manifest(id, { quota: { cpu: '0.5', memory: '1024Mi', pods: 12 } }));
        await harness.waitForCondition(id, 'Ready', 'True');
        expect((await client.request<Loose>({ method: 'GET', path: `/api/v1/namespaces/rf-${id}/resourcequotas/tenant-quota` })).spec.hard).toEqual({
          'requests.cpu': '500m',
          'requests.memory': '1Gi',
          pods: '12',
          persistentvolumeclaims: '0',
        });
        await settledReadySince(id);
        const reconciles = async () =>
          (await operator.operator.registry.getSingleMetric('controller_runtime_reconcile_total')!.get()).values.reduce((sum, v) => sum + v.value, 0);
        const before = await reconciles();
        requests.length = 0;
        // Several resyncs: each reconciles the tenant, checks every layer, and finds nothing to write.
        await sleep(4_000);
        expect(await reconciles()).toBeGreaterThanOrEqual(before + 3);
        expect(requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
      } finally {
        await harness.tenants.delete(id).catch(() => undefined);
        await harness.waitForGone(id).catch(() => undefined);
        await operator.stop();
        client.close();
      }
    });
  });
});
