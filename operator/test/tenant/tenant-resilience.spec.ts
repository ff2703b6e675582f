/**
 * The tenant reconciler when things happen at once or go wrong in the middle: concurrent edits of one tenant, an
 * operator killed in the middle of a reconcile, and a leader killed with a standby waiting. Against the real control
 * plane, PostgreSQL, RabbitMQ, Redis and auth.
 */
import { connectionFromKubeConfig, isConflict, KubeClient, LEASES, loadKubeConfig, NAMESPACES, ResourceClient, type KubeObject } from '../../src/controller-core';
import type { TenantPasswords } from '../../src/tenant/credentials';
import { abortable } from '../../src/tenant/external/abort';
import { createExternalLayers } from '../../src/tenant/external';
import { RESOURCE_QUOTAS } from '../../src/tenant/kinds';
import type { ExternalLayer, TenantTarget } from '../../src/tenant/layers';
import { TENANT_FINALIZER, TENANT_LABEL, TENANTS, type RallyForgeTenant } from '../../src/tenant/tenant-api';
import { CLUSTER_TIMEOUT_MS, eventually } from '../support/test-cluster';
import { DATA_SERVICES, rejection, TenantBackends, withPostgres, type Loose } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, TEST_LEASE, type TenantHarness } from './tenant-harness';

/**
 * A real external layer with a gate in front of the reconcile's return: `ensure` does its real work, reports that
 * it got there, then waits for the gate (or the reconcile's abort, as every layer honours it). It lets a spec stop
 * an operator at a known point of a reconcile; it changes nothing the layer does.
 */
class GatedLayer implements ExternalLayer {
  readonly condition: ExternalLayer['condition'];
  readonly system: string;
  readonly reached: Promise<void>;
  private reach!: () => void;
  private open!: () => void;
  private readonly gate: Promise<void>;

  constructor(private readonly inner: ExternalLayer) {
    this.condition = inner.condition;
    this.system = inner.system;
    this.reached = new Promise((resolve) => (this.reach = resolve));
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  async ensure(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<Record<string, string>> {
    const urls = await this.inner.ensure(target, passwords, signal);
    this.reach();
    await abortable(this.gate, signal);
    return urls;
  }

  verify(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<void> {
    return this.inner.verify(target, passwords, signal);
  }

  retain(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    return this.inner.retain(target, signal);
  }

  remove(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    return this.inner.remove(target, signal);
  }

  release(): void {
    this.open();
  }

  close(): Promise<void> {
    this.open();
    return this.inner.close();
  }
}

/** `promise`, or a failure naming `what` after `ms`: a spec waits bounded. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('RallyForgeTenant resilience (real control plane, PostgreSQL, RabbitMQ, Redis, auth)', () => {
  let harness: TenantHarness;
  let backends: TenantBackends;

  beforeAll(async () => {
    harness = await createTenantHarness('resilience');
    backends = TenantBackends.create(harness);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    await harness?.close();
  }, 180_000);

  const ready = (t: RallyForgeTenant) => t.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const organisations = async (id: string) => (await harness.authEnv.sql.query('select id from organisations where id = $1', [id])).rows.length;
  const invitations = async (id: string) => (await harness.authEnv.sql.query<{ email: string }>('select email from invitations where tenant_id = $1', [id])).rows.map((r) => r.email);

  it('concurrent edits by two clients: the loser gets a resourceVersion conflict; the last spec written is the one applied', async () => {
    const operator = await harness.startOperator();
    // A second client with its own connection, as a second kubectl user would have.
    const other = KubeClient.create({ connection: await connectionFromKubeConfig(loadKubeConfig(harness.cluster.kubeconfig)) });
    const clients = [harness.tenants, new ResourceClient<RallyForgeTenant>(other, TENANTS)];
    const id = harness.tenantId('edits');
    try {
      await harness.create(harness.manifest(id, {}));
      await harness.waitForCondition(id, 'Ready', 'True');

      // Both read the same version; the first write wins, the second is refused rather than silently overwriting.
      const [a, b] = await Promise.all(clients.map((c) => c.get(id)));
      expect(a!.metadata.resourceVersion).toBe(b!.metadata.resourceVersion);
      await clients[0]!.replace({ ...a!, spec: { ...a!.spec, quota: { pods: 11 } } });
      const conflict = await rejection(clients[1]!.replace({ ...b!, spec: { ...b!.spec, quota: { pods: 12 } } }));
      expect(isConflict(conflict)).toBe(true);

      // Then both edit as fast as they can, each retrying on conflict (read, modify, write), as controllers and
      // `kubectl edit` do: every write is based on the latest version, so none is lost.
      let conflicts = 0;
      const edit = async (client: ResourceClient<RallyForgeTenant>, pods: number, name: string) => {
        for (;;) {
          const current = await client.get(id);
          try {
            return await client.replace({ ...current, spec: { ...current.spec, displayName: name, quota: { pods } } });
          } catch (error) {
            if (!isConflict(error)) throw error;
            conflicts += 1;
          }
        }
      };
      await Promise.all(
        clients.map(async (client, which) => {
          for (let i = 0; i < 8; i += 1) await edit(client, 13 + i * 2 + which, `Edited by client ${which} (${i})`);
        }),
      );
      const last = await harness.tenants.get(id);
      expect(conflicts).toBeGreaterThan(0);
      expect(last.spec.quota?.pods).toBeGreaterThanOrEqual(13);

      const converged = await harness.waitForTenant(id, `Ready at generation ${last.metadata.generation}`, (t) => t.metadata.generation === last.metadata.generation && ready(t));
      expect(converged.status?.conditions?.every((c) => c.observedGeneration === last.metadata.generation)).toBe(true);
      const quota = await new ResourceClient<Loose>(harness.cluster.client, RESOURCE_QUOTAS).get('tenant-quota', `rf-${id}`);
      expect(quota.spec.hard.pods).toBe(String(last.spec.quota!.pods));
      expect((await harness.authEnv.sql.query('select display_name from organisations where id = $1', [id])).rows[0]).toEqual({ display_name: last.spec.displayName });
    } finally {
      other.close();
      await harness.tenants.delete(id).catch(() => undefined);
      await harness.waitForGone(id).catch(() => undefined);
      await operator.stop();
    }
  });

  it('an operator killed in the middle of a reconcile: the next one converges with one of everything and nothing orphaned', async () => {
    const layers = createExternalLayers(harness.externalConfig);
    const redis = new GatedLayer(layers[2]!);
    const first = await harness.startOperator({ external: [layers[0]!, layers[1]!, redis] });
    const id = harness.tenantId('killed');
    const admins = [`one@${id}.example.org`, `two@${id}.example.org`];
    await harness.create(harness.manifest(id, { tier: 'dedicated', admins }));
    try {
      // PostgreSQL and RabbitMQ are provisioned with passwords that were never stored (the Secret comes later);
      // Redis got its ACL user and the reconcile is held there.
      await within(redis.reached, 60_000, 'the first operator to reach Redis');
      expect(await backends.secret(id)).toBeUndefined();
      expect((await backends.postgresObjects(id)).databases).toHaveLength(4);
      expect((await backends.rabbitObjects(id)).vhosts).toEqual([`rf-${id}`]);
      await first.stop({ hard: true });
      expect((await harness.tenants.get(id)).status).toBeUndefined();

      const second = await harness.startOperator();
      try {
        const tenant = await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
        expect(tenant.metadata.finalizers).toEqual([TENANT_FINALIZER]);
        const namespaces = await new ResourceClient<KubeObject>(harness.cluster.client, NAMESPACES).list({ labelSelector: `${TENANT_LABEL}=${id}` });
        expect(namespaces.items.map((n) => n.metadata.name)).toEqual([`rf-${id}`]);
        const db = (s: string) => `rf_${id.replace(/-/g, '_')}_${s}`;
        expect(await backends.postgresObjects(id)).toEqual({
          databases: DATA_SERVICES.map(db).sort(),
          roles: DATA_SERVICES.flatMap((s) => [{ name: db(s), login: true }, { name: `${db(s)}_app`, login: true }]).sort((x, y) => x.name.localeCompare(y.name)),
        });
        expect(await backends.rabbitObjects(id)).toEqual({ vhosts: [`rf-${id}`], users: [`rf-${id}`] });
        expect(await backends.redisUsers(id)).toEqual([`rf-${id}`]);
        expect(await organisations(id)).toBe(1);
        expect((await invitations(id)).sort()).toEqual(admins);
        // The second operator's passwords are the ones every system holds now (the first's were never stored).
        const secret = (await backends.secret(id))!;
        for (const service of DATA_SERVICES) await withPostgres(backends, secret[`${service.toUpperCase()}_DATABASE_URL`]!, (c) => c.query('select 1'));
        await (await backends.amqp(secret.AMQP_URL!)).close();
        await backends.redis(secret.REDIS_URL!);
        // Nothing of the killed reconcile lingers: no session or connection of the tenant's users but ours just now.
        await eventually(async () => (await backends.management<unknown[]>('GET', `/vhosts/rf-${id}/connections`))?.length === 0, 30_000, 'no AMQP connection left');
        const sessions = await backends.sql<{ n: string }>('postgres', `select count(*) as n from pg_stat_activity where usename like $1`, [`${db('').replace(/_/g, '\\_')}%`]);
        expect(Number(sessions[0]!.n)).toBe(0);
      } finally {
        await harness.tenants.delete(id).catch(() => undefined);
        await harness.waitForGone(id).catch(() => undefined);
        await second.stop();
      }
      expect(await backends.postgresObjects(id)).toEqual({ databases: [], roles: [] });
      expect(await backends.rabbitObjects(id)).toEqual({ vhosts: [], users: [] });
    } finally {
      redis.release();
      if (!first.stopped) await first.stop({ hard: true });
    }
  });

  it('two replicas with leader election: the leader killed, the standby takes over once the lease expires and reconciles a tenant created after', async () => {
    const a = await harness.startOperator({ leaderElection: true, identityName: 'replica-a' });
    await eventually(() => a.operator.manager.isLeader(), 30_000, 'replica-a to lead');
    const b = await harness.startOperator({ leaderElection: true, identityName: 'replica-b' });
    const before = harness.tenantId('before');
    const after = harness.tenantId('after');
    try {
      await harness.create(harness.manifest(before, {}));
      await harness.waitForCondition(before, 'Ready', 'True');
      expect(b.operator.manager.isLeader()).toBe(false);
      expect((await harness.events(before)).find((e) => e.reason === 'Ready')?.host).toBe('replica-a');

      const killedAt = Date.now();
      await a.stop({ hard: true });
      // The killed leader did not release its lease: it is still held by replica-a until it expires.
      const leases = new ResourceClient<KubeObject & { spec: { holderIdentity?: string; leaseTransitions?: number } }>(harness.cluster.client, LEASES);
      const lease = `tenant-operator-${harness.runId}`;
      expect((await leases.get(lease, harness.cluster.namespace)).spec.holderIdentity).toBe('replica-a');
      await harness.create(harness.manifest(after, {}));

      await eventually(() => b.operator.manager.isLeader(), 30_000, 'replica-b to take over');
      const takeover = Date.now() - killedAt;
      expect(takeover).toBeGreaterThanOrEqual(TEST_LEASE.leaseDurationMs - TEST_LEASE.retryPeriodMs);
      expect((await leases.get(lease, harness.cluster.namespace)).spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });

      const tenant = await harness.waitForCondition(after, 'Ready', 'True');
      expect(tenant.metadata.finalizers).toEqual([TENANT_FINALIZER]);
      expect((await harness.events(after)).find((e) => e.reason === 'Ready')?.host).toBe('replica-b');
      // The tenant from before the kill is still Ready, now reconciled by replica-b (no write: it was converged).
      expect(ready(await harness.tenants.get(before))).toBe(true);
    } finally {
      for (const id of [before, after]) await harness.tenants.delete(id).catch(() => undefined);
      for (const id of [before, after]) await harness.waitForGone(id).catch(() => undefined);
      if (!a.stopped) await a.stop({ hard: true });
      await b.stop();
    }
  });
});
