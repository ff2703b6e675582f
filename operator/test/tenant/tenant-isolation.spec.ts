/**
 * Isolation proven from the tenants' own credentials, as their services would hold them (their Secrets): tenant A
 * cannot open tenant B's databases, vhost, Redis keys or channels, and cannot see that they exist. Two dedicated
 * tenants provisioned by the operator on the real PostgreSQL, RabbitMQ and Redis.
 */
import { CLUSTER_TIMEOUT_MS } from '../support/test-cluster';
import { DATA_SERVICES, rejection, TenantBackends, withPostgres } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, type TenantHarness } from './tenant-harness';

/** How amqplib reports a vhost the broker refuses to open (it closes the connection instead of ConnectionOpenOk). */
const VHOST_REFUSED = /Expected ConnectionOpenOk|NOT_ALLOWED|access to vhost/i;

describe('RallyForgeTenant isolation from the tenants\' own credentials (real PostgreSQL, RabbitMQ, Redis)', () => {
  let harness: TenantHarness;
  let backends: TenantBackends;
  let a: { id: string; secret: Record<string, string> };
  let b: { id: string; secret: Record<string, string> };

  beforeAll(async () => {
    harness = await createTenantHarness('isolation');
    backends = TenantBackends.create(harness);
    await harness.startOperator();
    const ids = [harness.tenantId('a'), harness.tenantId('b')];
    for (const id of ids) await harness.create(harness.manifest(id, { tier: 'dedicated' }));
    const secrets = [];
    for (const id of ids) {
      await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
      secrets.push({ id, secret: (await backends.secret(id))! });
    }
    [a, b] = secrets as [typeof a, typeof b];
    // B's data, written with B's own credentials.
    await withPostgres(backends, b.secret.CLAIMS_MIGRATION_DATABASE_URL!, async (c) => {
      await c.query('create table secrets_of_b (body text)');
      await c.query("insert into secrets_of_b values ('only for b')");
    });
    const redis = await backends.redis(b.secret.REDIS_URL!);
    await redis.set(`t:${b.id}:secret`, 'only for b');
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    await harness?.close();
  }, 180_000);

  const database = (id: string, service: string) => `rf_${id.replace(/-/g, '_')}_${service}`;
  /** A's URL for `service` pointed at another database. */
  const aInto = (service: string, target: string, key: 'DATABASE_URL' | 'MIGRATION_DATABASE_URL' = 'DATABASE_URL') => {
    const url = new URL(a.secret[`${service.toUpperCase()}_${key}`]!);
    url.pathname = `/${target}`;
    return url.toString();
  };

  it("PostgreSQL: neither of A's roles can connect to B's databases, log in as B, or become B", async () => {
    for (const service of DATA_SERVICES) {
      for (const key of ['DATABASE_URL', 'MIGRATION_DATABASE_URL'] as const) {
        const refused = await rejection(backends.postgres(aInto(service, database(b.id, service), key)));
        expect({ service, key, code: refused.code, message: refused.message }).toEqual({
          service,
          key,
          code: '42501',
          message: expect.stringMatching(new RegExp(`^permission denied for database "?${database(b.id, service)}"?`)),
        });
      }
    }
    // A's password does not open B's role.
    const asB = new URL(b.secret.CLAIMS_DATABASE_URL!);
    asB.password = new URL(a.secret.CLAIMS_DATABASE_URL!).password;
    expect((await rejection(backends.postgres(asB.toString()))).code).toBe('28P01');
    // Inside its own database, A cannot switch to B's roles, and sees no other database it could open.
    await withPostgres(backends, a.secret.CLAIMS_MIGRATION_DATABASE_URL!, async (c) => {
      expect((await rejection(c.query(`set role ${database(b.id, 'claims')}`))).code).toBe('42501');
      const reachable = await c.query<{ datname: string }>(
        "select datname from pg_database where datallowconn and has_database_privilege(datname, 'CONNECT') order by 1",
      );
      expect(reachable.rows.map((r) => r.datname).filter((d) => !['postgres', 'template1'].includes(d))).toEqual([database(a.id, 'claims')]);
    });
    // B's row is still B's alone.
    expect(await withPostgres(backends, b.secret.CLAIMS_DATABASE_URL!, async (c) => (await c.query('select body from secrets_of_b')).rows)).toEqual([{ body: 'only for b' }]);
  });

  it("RabbitMQ: A's user cannot open B's vhost (or the platform's), and A's password does not log in as B", async () => {
    const intoB = new URL(a.secret.AMQP_URL!);
    intoB.pathname = `/${encodeURIComponent(`rf-${b.id}`)}`;
    expect((await rejection(backends.amqp(intoB.toString()))).message).toMatch(VHOST_REFUSED);
    const intoPlatform = new URL(a.secret.AMQP_URL!);
    intoPlatform.pathname = `/${encodeURIComponent(harness.externalConfig.rabbitmq.platformVhost)}`;
    expect((await rejection(backends.amqp(intoPlatform.toString()))).message).toMatch(VHOST_REFUSED);
    const asB = new URL(b.secret.AMQP_URL!);
    asB.password = new URL(a.secret.AMQP_URL!).password;
    expect((await rejection(backends.amqp(asB.toString()))).message).toMatch(/ACCESS_REFUSED/);
    // Its own vhost works: the refusals above are isolation, not a broken login.
    const own = await backends.amqp(a.secret.AMQP_URL!);
    await own.close();
  });

  it("Redis: A's user cannot read, write or list B's keys, nor publish or subscribe to B's channels", async () => {
    const redis = await backends.redis(a.secret.REDIS_URL!);
    const refusals: Record<string, string> = {};
    const attempt = async (what: string, command: () => Promise<unknown>) => {
      refusals[what] = (await rejection(command())).message.split(' ')[0]!;
    };
    await attempt('GET', () => redis.get(`t:${b.id}:secret`));
    await attempt('SET', () => redis.set(`t:${b.id}:secret`, 'overwritten by a'));
    await attempt('DEL', () => redis.del(`t:${b.id}:secret`));
    await attempt('KEYS', () => redis.keys(`t:${b.id}:*`));
    await attempt('SCAN', () => redis.scan('0', 'MATCH', `t:${b.id}:*`));
    await attempt('PUBLISH', () => redis.publish(`t:${b.id}:events`, 'from a'));
    await attempt('PUBSUB', () => redis.pubsub('CHANNELS', '*'));
    expect(refusals).toEqual({ GET: 'NOPERM', SET: 'NOPERM', DEL: 'NOPERM', KEYS: 'NOPERM', SCAN: 'NOPERM', PUBLISH: 'NOPERM', PUBSUB: 'NOPERM' });
    const subscriber = await backends.redis(a.secret.REDIS_URL!);
    expect((await rejection(subscriber.subscribe(`t:${b.id}:events`))).message).toMatch(/^NOPERM/);
    // A's own prefix works; B's key is untouched.
    await redis.set(`t:${a.id}:mine`, 'a');
    expect(await redis.get(`t:${a.id}:mine`)).toBe('a');
    expect(await backends.redisAdmin().get(`t:${b.id}:secret`)).toBe('only for b');
    // And A's password does not log in as B.
    const asB = new URL(b.secret.REDIS_URL!);
    asB.password = new URL(a.secret.REDIS_URL!).password;
    expect((await rejection(backends.redis(asB.toString()))).message).toMatch(/WRONGPASS/);
  });

  it("Kubernetes: A's admins may read A's namespace (not its Secrets) and nothing of B's (the API server's authorizer says so)", async () => {
    const may = async (tenant: string, verb: string, resource: string, namespace: string, group = '') => {
      const review = await harness.cluster.client.request<{ status: { allowed: boolean } }>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: `admin@${tenant}`, groups: [`rallyforge:tenant:${tenant}:admins`], resourceAttributes: { verb, group, resource, namespace } },
        },
      });
      return review.status.allowed;
    };
    expect({
      ownPods: await may(a.id, 'list', 'pods', `rf-${a.id}`),
      ownDeployments: await may(a.id, 'get', 'deployments', `rf-${a.id}`, 'apps'),
      ownSecrets: await may(a.id, 'get', 'secrets', `rf-${a.id}`),
      ownWrites: await may(a.id, 'delete', 'pods', `rf-${a.id}`),
      otherPods: await may(a.id, 'list', 'pods', `rf-${b.id}`),
      otherSecrets: await may(a.id, 'get', 'secrets', `rf-${b.id}`),
    }).toEqual({ ownPods: true, ownDeployments: true, ownSecrets: false, ownWrites: false, otherPods: false, otherSecrets: false });
  });
});
