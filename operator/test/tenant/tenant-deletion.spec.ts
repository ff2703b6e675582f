/**
 * Deletion behind the finalizer, and external systems that are down: deletionPolicy Retain keeps the data and locks
 * it, a system that is down shows in status with what to do and the tenant finishes (Ready, or deleted) once it is
 * back. Against the real control plane, PostgreSQL, RabbitMQ, Redis and auth.
 */
import { ResourceClient, type ResourceType } from '../../src/controller-core';
import { DEPLOYMENTS, NETWORK_POLICIES } from '../../src/tenant/kinds';
import type { RallyForgeTenant } from '../../src/tenant/tenant-api';
import { CLUSTER_TIMEOUT_MS, eventually } from '../support/test-cluster';
import { closedPort, DATA_SERVICES, rejection, TenantBackends, withPostgres, type Loose } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, type TenantHarness } from './tenant-harness';

describe('RallyForgeTenant deletion and unavailable systems (real control plane, PostgreSQL, RabbitMQ, Redis, auth)', () => {
  let harness: TenantHarness;
  let backends: TenantBackends;

  beforeAll(async () => {
    harness = await createTenantHarness('deletion');
    backends = TenantBackends.create(harness);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    await harness?.close();
  }, 180_000);

  const client = (type: ResourceType) => new ResourceClient<Loose>(harness.cluster.client, type);
  const condition = (tenant: RallyForgeTenant, type: string) => tenant.status?.conditions?.find((c) => c.type === type);
  const organisation = async (id: string) =>
    (await harness.authEnv.sql.query<{ suspended: boolean }>('select suspended from organisations where id = $1', [id])).rows[0];

  it('Retain: the namespace and Secret stay, logins are disabled (sessions ended), the data is kept; re-created, the tenant gets it back', async () => {
    const operator = await harness.startOperator();
    const id = harness.tenantId('retain');
    const namespace = `rf-${id}`;
    const claims = `rf_${id.replace(/-/g, '_')}_claims`;
    try {
      await harness.create(harness.manifest(id, { tier: 'dedicated' }, { deletionPolicy: 'Retain' }));
      await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      const secret = (await backends.secret(id))!;

      // Data in every system, written with the tenant's own credentials; a session that is open when it is deleted.
      await withPostgres(backends, secret.CLAIMS_MIGRATION_DATABASE_URL!, async (c) => {
        await c.query('create table notes (body text)');
        await c.query("insert into notes values ('kept')");
      });
      const session = await backends.postgres(secret.CLAIMS_DATABASE_URL!);
      const sessionEnded = new Promise<Error & { code?: string }>((resolve) => session.on('error', resolve));
      const amqp = await backends.amqp(secret.AMQP_URL!);
      const channel = await amqp.createConfirmChannel();
      await channel.assertQueue('kept', { durable: true, arguments: { 'x-queue-type': 'classic' } });
      channel.sendToQueue('kept', Buffer.from('kept'), { persistent: true });
      await channel.waitForConfirms();
      await amqp.close();
      const redis = await backends.redis(secret.REDIS_URL!);
      await redis.set(`t:${id}:kept`, 'kept');

      await harness.tenants.delete(id);
      await harness.waitForGone(id);

      // Kubernetes: the namespace with its Secret (the data's keys) and isolation stay; only the workloads went.
      expect((await backends.namespace(id))?.metadata.deletionTimestamp).toBeUndefined();
      expect(await backends.secret(id)).toEqual(secret);
      expect((await client(NETWORK_POLICIES).list({ namespace })).items.length).toBeGreaterThanOrEqual(4);
      await eventually(async () => (await client(DEPLOYMENTS).list({ namespace })).items.length === 0, 30_000, 'the workloads to be removed');

      // PostgreSQL: the roles cannot log in, the open session was ended, the rows are there.
      expect((await backends.postgresObjects(id)).roles.every((r) => !r.login)).toBe(true);
      for (const service of DATA_SERVICES) {
        const refused = await rejection(backends.postgres(secret[`${service.toUpperCase()}_DATABASE_URL`]!));
        expect({ service, code: refused.code, message: refused.message }).toEqual({ service, code: '28000', message: expect.stringMatching(/is not permitted to log in/) });
      }
      // The server ended it (57P01: terminating connection due to administrator command).
      expect((await sessionEnded).code).toBe('57P01');
      await session.end().catch(() => undefined);
      expect(await backends.sql(claims, 'select body from notes')).toEqual([{ body: 'kept' }]);

      // RabbitMQ: the user has no permission left, so its vhost is refused; the queue keeps its message.
      expect(await backends.management('GET', `/users/rf-${id}/permissions`)).toEqual([]);
      expect((await rejection(backends.amqp(secret.AMQP_URL!))).message).toMatch(/Expected ConnectionOpenOk|NOT_ALLOWED|access to vhost/i);
      // (The management API refreshes queue statistics every few seconds.)
      await eventually(async () => (await backends.management<{ messages: number }>('GET', `/queues/rf-${id}/kept`))?.messages === 1, 20_000, 'the kept queue to report its message');

      // Redis: the ACL user is off and its client was killed; the key is kept.
      const acl = (await backends.redisAdmin().call('ACL', 'GETUSER', `rf-${id}`)) as unknown[];
      expect(acl[acl.indexOf('flags') + 1]).toContain('off');
      expect((await rejection(redis.get(`t:${id}:kept`))).message).toMatch(/Connection is closed|ECONNRESET|Stream isn't writeable/i);
      expect((await rejection(backends.redis(secret.REDIS_URL!))).message).toMatch(/WRONGPASS|disabled/i);
      expect(await backends.redisAdmin().get(`t:${id}:kept`)).toBe('kept');

      // auth: the organisation is suspended, not deleted.
      expect(await organisation(id)).toEqual({ suspended: true });
      expect((await harness.events(id)).find((e) => e.reason === 'Retained')?.message).toBe(
        `Kept the tenant's data with logins disabled; namespace ${namespace} keeps its credentials.`,
      );

      // The same tenant again: it adopts what was kept, with the same credentials.
      await harness.create(harness.manifest(id, { tier: 'dedicated' }, { deletionPolicy: 'Delete' }));
      await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      expect(await backends.secret(id)).toEqual(secret);
      expect(await withPostgres(backends, secret.CLAIMS_DATABASE_URL!, async (c) => (await c.query('select body from notes')).rows)).toEqual([{ body: 'kept' }]);
      expect(await (await backends.redis(secret.REDIS_URL!)).get(`t:${id}:kept`)).toBe('kept');
      expect(await organisation(id)).toEqual({ suspended: false });
    } finally {
      await harness.tenants.delete(id).catch(() => undefined);
      await harness.waitForGone(id).catch(() => undefined);
      await operator.stop();
      await harness.purge(id);
    }
  });

  it("re-created while its predecessor's namespace is still terminating: Namespace False NamespaceTerminating, then Ready", async () => {
    const operator = await harness.startOperator();
    const id = harness.tenantId('again');
    const namespace = `rf-${id}`;
    const configMaps = client({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true });
    try {
      await harness.create(harness.manifest(id, {}));
      await harness.waitForCondition(id, 'Ready', 'True');
      // Something in the namespace that takes its time to go (here: a finalizer of ours), as pods and volumes do.
      await configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'slow-to-go', namespace, finalizers: ['rallyforge.io/test-hold'] } });
      await harness.tenants.delete(id);
      await harness.waitForGone(id);
      expect((await backends.namespace(id))?.metadata.deletionTimestamp).toBeDefined();

      await harness.create(harness.manifest(id, {}));
      const waiting = await harness.waitForCondition(id, 'Namespace', 'False', 60_000);
      expect(condition(waiting, 'Namespace')).toMatchObject({
        reason: 'NamespaceTerminating',
        message: `applying the objects of namespace ${namespace} failed: the namespace is still being deleted; the operator creates it again once it is gone (retrying with backoff).`,
      });
      expect(waiting.status?.phase).toBe('Provisioning');

      await configMaps.patch('slow-to-go', namespace, { metadata: { finalizers: null } }, { type: 'merge' });
      await harness.waitForCondition(id, 'Ready', 'True', 120_000);
      const ns = await backends.namespace(id);
      expect(ns?.metadata.deletionTimestamp).toBeUndefined();
      expect(await backends.secret(id)).toEqual({ TENANT_ID: id, REDIS_KEY_PREFIX: `t:${id}:` });
    } finally {
      await configMaps.patch('slow-to-go', namespace, { metadata: { finalizers: null } }, { type: 'merge' }).catch(() => undefined);
      await harness.tenants.delete(id).catch(() => undefined);
      await harness.waitForGone(id).catch(() => undefined);
      await operator.stop();
    }
  });

  it('RabbitMQ down: the tenant shows MessageBroker False with what to do, the other layers provisioned; Ready once it is back', async () => {
    const port = await closedPort();
    const broken = await harness.startOperator({ configure: (c) => ({ ...c, rabbitmq: { ...c.rabbitmq, managementUrl: `http://127.0.0.1:${port}` } }) });
    const id = harness.tenantId('nobroker');
    try {
      await harness.create(harness.manifest(id, { tier: 'dedicated' }));
      const tenant = await harness.waitForCondition(id, 'MessageBroker', 'False', 60_000);
      expect(condition(tenant, 'MessageBroker')).toMatchObject({
        reason: 'RabbitMqUnavailable',
        message: expect.stringMatching(
          new RegExp(
            `^The RabbitMQ management API at http://127\\.0\\.0\\.1:${port} did not answer GET /api/vhosts/rf-${id} \\(.*ECONNREFUSED.*\\)\\. Check that the broker and its ` +
              'management plugin run and that RF_OPERATOR_RABBITMQ_MANAGEMENT_URL is right; the operator retries with backoff\\.$',
          ),
        ),
      });
      expect(condition(tenant, 'Database')?.status).toBe('True');
      expect(condition(tenant, 'Cache')?.status).toBe('True');
      expect(condition(tenant, 'Namespace')?.status).toBe('True');
      expect(condition(tenant, 'Ready')).toMatchObject({ status: 'False', reason: 'LayersNotReady', message: expect.stringContaining('MessageBroker: The RabbitMQ management API') });
      expect(tenant.status?.phase).toBe('Provisioning');
      expect((await harness.events(id)).find((e) => e.reason === 'RabbitMqUnavailable')).toMatchObject({ type: 'Warning' });
      // What works is already in the Secret; the AMQP_URL will be.
      const partial = (await backends.secret(id))!;
      expect(partial.AUTH_DATABASE_URL).toBeDefined();
      expect(partial.AMQP_URL).toBeUndefined();

      await broken.stop();
      const healthy = await harness.startOperator();
      try {
        await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
        const secret = (await backends.secret(id))!;
        expect(secret.AUTH_DATABASE_URL).toBe(partial.AUTH_DATABASE_URL);
        await (await backends.amqp(secret.AMQP_URL!)).close();
        expect((await harness.events(id)).find((e) => e.reason === 'Ready')).toBeDefined();
      } finally {
        await harness.tenants.delete(id).catch(() => undefined);
        await harness.waitForGone(id).catch(() => undefined);
        await healthy.stop();
      }
    } finally {
      if (!broken.stopped) await broken.stop();
    }
  });

  it("Redis down during deletion: the finalizer stays and status says why (CleanupFailed); the deletion completes once it is back", async () => {
    const first = await harness.startOperator();
    const id = harness.tenantId('nocache');
    await harness.create(harness.manifest(id, {}));
    await harness.waitForCondition(id, 'Ready', 'True');
    // What the platform's services keep for a shared tenant; the Delete policy removes it.
    await backends.redisAdmin().set(`t:${id}:session`, 'x');
    await first.stop();

    const port = await closedPort();
    const broken = await harness.startOperator({ configure: (c) => ({ ...c, redis: { ...c.redis, adminUrl: `redis://127.0.0.1:${port}/0` } }) });
    try {
      const down = await harness.waitForCondition(id, 'Cache', 'False', 60_000, 'RedisUnavailable');
      expect(condition(down, 'Cache')?.message).toMatch(new RegExp(`^Redis at 127\\.0\\.0\\.1:${port} is unreachable while checking the platform Redis \\(.*\\)\\. Check that it runs`));

      await harness.tenants.delete(id);
      const stuck = await harness.waitForTenant(id, 'CleanupFailed', (t) => condition(t, 'Ready')?.reason === 'CleanupFailed', 60_000);
      expect(stuck.metadata.deletionTimestamp).toBeDefined();
      expect(stuck.status?.phase).toBe('Deleting');
      expect(condition(stuck, 'Ready')?.status).toBe('False');
      expect(condition(stuck, 'Ready')?.message).toMatch(
        new RegExp(
          `^Deleting with deletionPolicy Delete failed: Redis: Redis at 127\\.0\\.0\\.1:${port} is unreachable while removing the tenant's ACL user and keys ` +
            '\\(.*\\)\\. Check that it runs and that the operator can reach it \\(RF_OPERATOR_REDIS_ADMIN_URL\\); the operator retries with backoff\\. ' +
            'Retrying; the finalizer comes off after 60 s at most\\.$',
        ),
      );
      expect((await harness.events(id)).find((e) => e.reason === 'CleanupFailed')).toMatchObject({ type: 'Warning' });
      expect(await backends.redisAdmin().get(`t:${id}:session`)).toBe('x');
    } finally {
      await broken.stop();
    }

    const healthy = await harness.startOperator();
    try {
      await harness.waitForGone(id, 60_000);
      expect(await backends.redisAdmin().exists(`t:${id}:session`)).toBe(0);
      expect(await organisation(id)).toBeUndefined();
      await eventually(async () => (await backends.namespace(id)) === undefined, 120_000, `namespace rf-${id} to be deleted`);
    } finally {
      await healthy.stop();
    }
  });

  it('gives up after the deletion timeout: the finalizer comes off and an Event says what to clean up by hand', async () => {
    const port = await closedPort();
    const deletionTimeoutMs = 3_000;
    const broken = await harness.startOperator({
      configure: (c) => ({ ...c, redis: { ...c.redis, adminUrl: `redis://127.0.0.1:${port}/0` } }),
      settings: { deletionTimeoutMs },
    });
    const id = harness.tenantId('abandon');
    try {
      await harness.create(harness.manifest(id, {}));
      await harness.waitForCondition(id, 'Cache', 'False', 60_000, 'RedisUnavailable');
      const deletedAt = Date.now();
      await harness.tenants.delete(id);
      await harness.waitForGone(id, 60_000);
      // Not before the timeout (the deletionTimestamp has whole seconds), and not much after it either.
      expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(deletionTimeoutMs - 1_000);
      const abandoned = (await harness.events(id)).find((e) => e.reason === 'CleanupAbandoned');
      expect(abandoned).toMatchObject({ type: 'Warning' });
      expect(abandoned?.message).toMatch(
        new RegExp(`^Deleting with deletionPolicy Delete failed: Redis: Redis at 127\\.0\\.0\\.1:${port} is unreachable .*retries with backoff\\. Gave up after 3 s: clean these up by hand\\.$`),
      );
      // What did not fail was done: the organisation is gone from auth.
      expect(await organisation(id)).toBeUndefined();
    } finally {
      await broken.stop();
    }
  });
});
