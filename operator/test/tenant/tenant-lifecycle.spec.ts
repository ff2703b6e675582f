/**
 * The tenant reconciler's lifecycle against the real control plane, PostgreSQL, RabbitMQ, Redis and auth: a tenant
 * becomes Ready with every layer checked, follows spec changes, and its deletion (policy Delete) removes what it had.
 */
import { ResourceClient, type ResourceType } from '../../src/controller-core';
import { NETWORK_POLICIES, RESOURCE_QUOTAS, DEPLOYMENTS, LIMIT_RANGES, ROLE_BINDINGS, ROLES } from '../../src/tenant/kinds';
import { TENANT_FINALIZER, TENANT_LABEL, TIER_LABEL, type RallyForgeTenant } from '../../src/tenant/tenant-api';
import { CLUSTER_TIMEOUT_MS, eventually } from '../support/test-cluster';
import { DATA_SERVICES, rejection, TenantBackends, withPostgres, type Loose } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, type TenantHarness } from './tenant-harness';

const LAYERS = ['Namespace', 'Database', 'MessageBroker', 'Cache', 'Identity', 'Workloads', 'Ready'];

interface OrganisationRow {
  id: string;
  display_name: string;
  registration: string;
  suspended: boolean;
  api_requests_per_minute: number | null;
  max_users: number | null;
  document_storage_bytes: string | null;
}

describe('RallyForgeTenant lifecycle (real control plane, PostgreSQL, RabbitMQ, Redis, auth)', () => {
  let harness: TenantHarness;
  let backends: TenantBackends;

  beforeAll(async () => {
    harness = await createTenantHarness('lifecycle');
    backends = TenantBackends.create(harness);
    await harness.startOperator();
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    await harness?.close();
  }, 180_000);

  const client = (type: ResourceType) => new ResourceClient<Loose>(harness.cluster.client, type);
  const organisation = async (id: string) =>
    (await harness.authEnv.sql.query<OrganisationRow>('select * from organisations where id = $1', [id])).rows[0];
  const invitations = async (id: string) =>
    (await harness.authEnv.sql.query<{ email: string; role: string }>('select email, role from invitations where tenant_id = $1 order by email', [id])).rows;
  const conditions = (tenant: RallyForgeTenant) =>
    Object.fromEntries((tenant.status?.conditions ?? []).map((c) => [c.type, { status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration }]));

  describe('a shared tenant', () => {
    let id: string;

    it('becomes Ready: every layer True, its namespace isolated, its organisation registered in auth', async () => {
      id = harness.tenantId('shared');
      const namespace = `rf-${id}`;
      await harness.create(
        harness.manifest(id, {
          displayName: 'Veterans of the Shared Tier',
          registration: 'open',
          admins: [`first@${id}.example.org`, `second@${id}.example.org`],
        }),
      );
      const tenant = await harness.waitForCondition(id, 'Ready', 'True');

      expect(tenant.metadata.finalizers).toContain(TENANT_FINALIZER);
      expect(tenant.status).toMatchObject({ phase: 'Ready', observedGeneration: 1, namespace, credentialsSecret: { namespace, name: 'rallyforge-tenant-credentials' } });
      expect(tenant.status?.conditions?.map((c) => c.type)).toEqual(LAYERS);
      expect(conditions(tenant)).toEqual({
        Namespace: { status: 'True', reason: 'Applied', message: `Namespace ${namespace} with its quota, limits, network policies, RBAC and credentials Secret.`, observedGeneration: 1 },
        Database: { status: 'True', reason: 'SharedPlatformVerified', message: "PostgreSQL: the platform's shared PostgreSQL is reachable and isolates tenants.", observedGeneration: 1 },
        MessageBroker: { status: 'True', reason: 'SharedPlatformVerified', message: "RabbitMQ: the platform's shared RabbitMQ is reachable and isolates tenants.", observedGeneration: 1 },
        Cache: { status: 'True', reason: 'SharedPlatformVerified', message: "Redis: the platform's shared Redis is reachable and isolates tenants.", observedGeneration: 1 },
        Identity: {
          status: 'True',
          reason: 'Registered',
          message: `Organisation ${id} registered in auth (registration open); invitations pending for 2 admin(s).`,
          observedGeneration: 1,
        },
        Workloads: { status: 'True', reason: 'SharedPlatform', message: "Served by the platform's services (shared tier).", observedGeneration: 1 },
        Ready: { status: 'True', reason: 'AllLayersReady', message: 'Every layer is provisioned and verified.', observedGeneration: 1 },
      });

      // The namespace and what isolates it.
      const ns = await backends.namespace(id);
      expect(ns?.metadata.labels).toMatchObject({ [TENANT_LABEL]: id, [TIER_LABEL]: 'shared', 'pod-security.kubernetes.io/enforce': 'restricted' });
      const quota = await client(RESOURCE_QUOTAS).get('tenant-quota', namespace);
      expect(quota.spec.hard).toEqual({ 'requests.cpu': '1', 'requests.memory': '2Gi', pods: '10', persistentvolumeclaims: '0' });
      expect((await client(LIMIT_RANGES).list({ namespace })).items.map((o) => o.metadata.name)).toEqual(['tenant-defaults']);
      expect((await client(NETWORK_POLICIES).list({ namespace })).items.map((o) => o.metadata.name).sort()).toEqual(['allow-egress', 'allow-platform-ingress', 'allow-same-namespace', 'default-deny']);
      expect((await client(ROLES).list({ namespace })).items.map((o) => o.metadata.name)).toEqual(['tenant-admin']);
      expect((await client(ROLE_BINDINGS).get('tenant-admins', namespace)).subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `rallyforge:tenant:${id}:admins` }]);
      // A shared tenant has no credentials of its own: the platform's services serve it.
      expect(await backends.secret(id)).toEqual({ TENANT_ID: id, REDIS_KEY_PREFIX: `t:${id}:` });
      expect(await backends.postgresObjects(id)).toEqual({ databases: [], roles: [] });
      expect(await backends.rabbitObjects(id)).toEqual({ vhosts: [], users: [] });

      // auth has the organisation, open for registration, with both admins invited.
      expect(await organisation(id)).toMatchObject({ display_name: 'Veterans of the Shared Tier', registration: 'open', suspended: false });
      expect(await invitations(id)).toEqual([
        { email: `first@${id}.example.org`, role: 'org_admin' },
        { email: `second@${id}.example.org`, role: 'org_admin' },
      ]);
      expect((await harness.events(id)).map((e) => e.reason)).toContain('Ready');
    });

    it('follows spec changes: the quota goes to the ResourceQuota and the limits to auth; observedGeneration follows', async () => {
      await harness.tenants.patch(
        id,
        undefined,
        { spec: { displayName: 'Renamed', quota: { pods: 20, cpu: '2', memory: '4Gi', users: 50, apiRequestsPerMinute: 600, documentStorageBytes: 1_000_000 } } },
        { type: 'merge' },
      );
      const updated = await harness.waitForTenant(id, 'generation 2 Ready', (t) => t.metadata.generation === 2 && conditions(t).Ready?.status === 'True');
      expect(updated.status?.observedGeneration).toBe(2);
      expect(updated.status?.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
      expect((await client(RESOURCE_QUOTAS).get('tenant-quota', `rf-${id}`)).spec.hard).toEqual({ 'requests.cpu': '2', 'requests.memory': '4Gi', pods: '20', persistentvolumeclaims: '0' });
      expect(await organisation(id)).toMatchObject({ display_name: 'Renamed', max_users: 50, api_requests_per_minute: 600, document_storage_bytes: '1000000' });

      // Removing the quota is a change too: the defaults again, and no application limits left in auth.
      await harness.tenants.patch(id, undefined, { spec: { quota: null } }, { type: 'merge' });
      await harness.waitForTenant(id, 'generation 3 Ready', (t) => t.metadata.generation === 3 && conditions(t).Ready?.status === 'True');
      expect((await client(RESOURCE_QUOTAS).get('tenant-quota', `rf-${id}`)).spec.hard).toEqual({ 'requests.cpu': '1', 'requests.memory': '2Gi', pods: '10', persistentvolumeclaims: '0' });
      expect(await organisation(id)).toMatchObject({ max_users: null, api_requests_per_minute: null, document_storage_bytes: null });
    });

    it('is deleted with policy Delete: its namespace and organisation are gone', async () => {
      await harness.tenants.delete(id);
      await harness.waitForGone(id);
      await eventually(async () => (await backends.namespace(id)) === undefined, 120_000, `namespace rf-${id} to be deleted`);
      expect(await organisation(id)).toBeUndefined();
      expect(await invitations(id)).toEqual([]);
    });
  });

  describe('a dedicated tenant', () => {
    let id: string;

    it('becomes Ready: its databases, vhost and Redis user work with its own credentials; its five services are Available', async () => {
      id = harness.tenantId('dedicated');
      const namespace = `rf-${id}`;
      await harness.create(harness.manifest(id, { tier: 'dedicated', admins: [`chief@${id}.example.org`] }));
      const tenant = await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);

      expect(tenant.status).toMatchObject({ phase: 'Ready', observedGeneration: 1, namespace, credentialsSecret: { namespace, name: 'rallyforge-tenant-credentials' } });
      expect(conditions(tenant)).toEqual({
        Namespace: { status: 'True', reason: 'Applied', message: `Namespace ${namespace} with its quota, limits, network policies, RBAC and credentials Secret.`, observedGeneration: 1 },
        Database: { status: 'True', reason: 'Provisioned', message: "PostgreSQL: provisioned and verified with the tenant's own credentials.", observedGeneration: 1 },
        MessageBroker: { status: 'True', reason: 'Provisioned', message: "RabbitMQ: provisioned and verified with the tenant's own credentials.", observedGeneration: 1 },
        Cache: { status: 'True', reason: 'Provisioned', message: "Redis: provisioned and verified with the tenant's own credentials.", observedGeneration: 1 },
        Identity: { status: 'True', reason: 'Registered', message: `Organisation ${id} registered in auth (registration invite); invitations pending for 1 admin(s).`, observedGeneration: 1 },
        Workloads: { status: 'True', reason: 'Available', message: `5 Deployments available in ${namespace}.`, observedGeneration: 1 },
        Ready: { status: 'True', reason: 'AllLayersReady', message: 'Every layer is provisioned and verified.', observedGeneration: 1 },
      });

      // Five Deployments, each Available on kwok's nodes.
      const deployments = (await client(DEPLOYMENTS).list({ namespace })).items;
      expect(deployments.map((d) => d.metadata.name).sort()).toHaveLength(5);
      for (const d of deployments) {
        expect({ name: d.metadata.name, available: d.status?.conditions?.find((c: Loose) => c.type === 'Available')?.status }).toEqual({ name: d.metadata.name, available: 'True' });
      }
      expect((await client(RESOURCE_QUOTAS).get('tenant-quota', namespace)).spec.hard).toEqual({ 'requests.cpu': '8', 'requests.memory': '16Gi', pods: '60', 'requests.storage': '50Gi' });

      // The Secret: one URL per database (runtime role and migration owner), AMQP_URL and REDIS_URL, each the tenant's own user.
      const secret = (await backends.secret(id))!;
      const db = (service: string) => `rf_${id.replace(/-/g, '_')}_${service}`;
      for (const service of DATA_SERVICES) {
        const runtime = new URL(secret[`${service.toUpperCase()}_DATABASE_URL`]!);
        const owner = new URL(secret[`${service.toUpperCase()}_MIGRATION_DATABASE_URL`]!);
        expect({ user: runtime.username, database: runtime.pathname }).toEqual({ user: `${db(service)}_app`, database: `/${db(service)}` });
        expect({ user: owner.username, database: owner.pathname }).toEqual({ user: db(service), database: `/${db(service)}` });
        const who = await withPostgres(backends, runtime.toString(), async (c) => (await c.query('select current_user as "user", current_database() as database')).rows[0]);
        expect(who).toEqual({ user: `${db(service)}_app`, database: db(service) });
        await withPostgres(backends, owner.toString(), (c) => c.query('create table if not exists lifecycle_probe (id int)'));
      }
      const amqpUrl = new URL(secret.AMQP_URL!);
      expect({ user: amqpUrl.username, vhost: decodeURIComponent(amqpUrl.pathname.slice(1)) }).toEqual({ user: `rf-${id}`, vhost: `rf-${id}` });
      const connection = await backends.amqp(secret.AMQP_URL!);
      try {
        const channel = await connection.createChannel();
        await channel.assertQueue('lifecycle-probe', { durable: true, arguments: { 'x-queue-type': 'classic' } });
      } finally {
        await connection.close();
      }
      expect(new URL(secret.REDIS_URL!).username).toBe(`rf-${id}`);
      const redis = await backends.redis(secret.REDIS_URL!);
      await redis.set(`t:${id}:lifecycle`, 'ok');
      expect(await redis.get(`t:${id}:lifecycle`)).toBe('ok');
      expect(secret).toMatchObject({ TENANT_ID: id, REDIS_KEY_PREFIX: `t:${id}:` });
      expect(secret.AUTH_KEY_ENCRYPTION_KEY).toMatch(/^[A-Za-z0-9+/]{43}=$/);

      expect(await backends.postgresObjects(id)).toEqual({
        databases: DATA_SERVICES.map(db).sort(),
        roles: DATA_SERVICES.flatMap((s) => [{ name: db(s), login: true }, { name: `${db(s)}_app`, login: true }]).sort((a, b) => a.name.localeCompare(b.name)),
      });
      expect(await organisation(id)).toMatchObject({ registration: 'invite', suspended: false });
      expect(await invitations(id)).toEqual([{ email: `chief@${id}.example.org`, role: 'org_admin' }]);
    });

    it('follows a quota change: the ResourceQuota and the workloads are re-applied, Ready again at the new generation', async () => {
      await harness.tenants.patch(id, undefined, { spec: { quota: { pods: 40, cpu: '6', memory: '12Gi' } } }, { type: 'merge' });
      const updated = await harness.waitForTenant(id, 'generation 2 Ready', (t) => t.metadata.generation === 2 && conditions(t).Ready?.status === 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      expect(conditions(updated).Workloads).toMatchObject({ status: 'True', reason: 'Available', observedGeneration: 2 });
      expect((await client(RESOURCE_QUOTAS).get('tenant-quota', `rf-${id}`)).spec.hard).toEqual({ 'requests.cpu': '6', 'requests.memory': '12Gi', pods: '40', 'requests.storage': '50Gi' });
    });

    it('suspend: every login disabled, the services scaled to zero, the organisation suspended; resumed, all back', async () => {
      const namespace = `rf-${id}`;
      const secret = (await backends.secret(id))!;
      await harness.tenants.patch(id, undefined, { spec: { suspend: true } }, { type: 'merge' });
      const suspended = await harness.waitForTenant(id, 'Suspended', (t) => t.status?.phase === 'Suspended', DEDICATED_CONVERGE_TIMEOUT_MS);
      expect(conditions(suspended).Ready).toMatchObject({ status: 'True', reason: 'AllLayersReady', message: 'Every layer is provisioned; the tenant is suspended.' });
      expect(conditions(suspended).Workloads).toMatchObject({ status: 'True', reason: 'ScaledToZero', message: 'The tenant is suspended: its 5 Deployments are scaled to zero.' });
      expect((await client(DEPLOYMENTS).list({ namespace })).items.map((d) => d.spec.replicas)).toEqual([0, 0, 0, 0, 0]);
      expect((await backends.postgresObjects(id)).roles.every((r) => !r.login)).toBe(true);
      expect((await rejection(backends.postgres(secret.AUTH_DATABASE_URL!))).code).toBe('28000');
      expect((await rejection(backends.amqp(secret.AMQP_URL!))).message).toMatch(/Expected ConnectionOpenOk|NOT_ALLOWED|access to vhost/i);
      expect((await rejection(backends.redis(secret.REDIS_URL!))).message).toMatch(/WRONGPASS|disabled/i);
      expect(await organisation(id)).toMatchObject({ suspended: true });

      await harness.tenants.patch(id, undefined, { spec: { suspend: false } }, { type: 'merge' });
      const resumed = await harness.waitForTenant(id, 'Ready again', (t) => t.status?.phase === 'Ready', DEDICATED_CONVERGE_TIMEOUT_MS);
      expect(conditions(resumed).Workloads).toMatchObject({ status: 'True', reason: 'Available' });
      await withPostgres(backends, secret.AUTH_DATABASE_URL!, (c) => c.query('select 1'));
      await (await backends.amqp(secret.AMQP_URL!)).close();
      await backends.redis(secret.REDIS_URL!);
      expect(await organisation(id)).toMatchObject({ suspended: false });
    });

    it('rotates every password on request (the rotate-credentials annotation); the old ones are refused', async () => {
      const before = (await backends.secret(id))!;
      await harness.tenants.patch(id, undefined, { metadata: { annotations: { 'rallyforge.io/rotate-credentials': 'first' } } }, { type: 'merge' });
      const after = await eventually(async () => {
        const secret = await backends.secret(id);
        return secret?.CREDENTIALS_ROTATION === 'first' ? secret : undefined;
      }, 60_000, 'the credentials to be rotated');
      await harness.waitForCondition(id, 'Ready', 'True');
      for (const key of ['PASSWORD_POSTGRES_AUTH', 'PASSWORD_POSTGRES_DOCUMENTS', 'PASSWORD_RABBITMQ', 'PASSWORD_REDIS']) {
        expect({ key, changed: after[key] !== before[key] }).toEqual({ key, changed: true });
      }
      await withPostgres(backends, after.AUTH_DATABASE_URL!, (c) => c.query('select 1'));
      expect((await rejection(backends.postgres(before.AUTH_DATABASE_URL!))).code).toBe('28P01');
      await (await backends.amqp(after.AMQP_URL!)).close();
      expect((await rejection(backends.amqp(before.AMQP_URL!))).message).toMatch(/ACCESS_REFUSED/);
      await backends.redis(after.REDIS_URL!);
      expect((await rejection(backends.redis(before.REDIS_URL!))).message).toMatch(/WRONGPASS/);
      // Rotated once for one request: the resync that follows keeps the new passwords.
      const events = (await harness.events(id)).filter((e) => e.reason === 'CredentialsRotated');
      expect(events.map((e) => e.count)).toEqual([1]);
      expect((await backends.secret(id))?.PASSWORD_RABBITMQ).toBe(after.PASSWORD_RABBITMQ);
    });

    it('is deleted with policy Delete: namespace, databases and roles, vhost and user, ACL user and keys, organisation all gone', async () => {
      await harness.tenants.delete(id);
      await harness.waitForGone(id);
      expect(await backends.postgresObjects(id)).toEqual({ databases: [], roles: [] });
      expect(await backends.rabbitObjects(id)).toEqual({ vhosts: [], users: [] });
      expect(await backends.redisUsers(id)).toEqual([]);
      expect(await backends.redisAdmin().exists(`t:${id}:lifecycle`)).toBe(0);
      expect(await organisation(id)).toBeUndefined();
      await eventually(async () => (await backends.namespace(id)) === undefined, 120_000, `namespace rf-${id} to be deleted`);
      expect((await harness.events(id)).find((e) => e.reason === 'Deleted')?.message).toBe(
        `Removed namespace rf-${id}, the tenant's databases, vhost, Redis user and organisation.`,
      );
    });
  });
});
