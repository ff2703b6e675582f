import Redis from 'ioredis';
import type { TenantPasswords } from '../../../src/tenant/credentials';
import { ProvisionError, RedisProvisioner } from '../../../src/tenant/external';
import {
  dedicated, passwords, rejection, shared, startExternalTestEnv, startSilentServer, uniqueTenantId, type ExternalTestEnv,
} from './external-test-env';

/** Redis layer against the real server: the ACL user, drift, isolation of keys and channels, retain/remove. */
describe('RedisProvisioner', () => {
  let env: ExternalTestEnv;
  let admin: Redis;
  let provisioner: RedisProvisioner;
  const cleanup: string[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    env = await startExternalTestEnv();
    admin = env.redis();
    provisioner = RedisProvisioner.create({ ...env.config.redis, sharedCheckTtlMs: 0 });
  });

  afterAll(async () => {
    // An ended client must not be disconnected again: ioredis would wait 2 s for a close event that already came.
    await Promise.all(clients.filter((c) => c.status !== 'end').map((c) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect())));
    for (const id of cleanup) await provisioner.remove(dedicated(id)).catch(() => undefined);
    await provisioner?.close();
    await env?.close();
  });

  async function provisioned(suffix = ''): Promise<{ id: string; creds: TenantPasswords; url: string }> {
    const id = uniqueTenantId(suffix);
    cleanup.push(id);
    const creds = passwords();
    const { REDIS_URL } = await provisioner.ensure(dedicated(id), creds);
    return { id, creds, url: REDIS_URL! };
  }

  const track = (client: Redis) => {
    clients.push(client);
    return client;
  };

  /** Why Redis refuses a login with `url` (ioredis reports a refused AUTH as an 'error' event). */
  async function loginRefusal(url: string): Promise<string> {
    const client = track(new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false }));
    let reported: Error | undefined;
    client.on('error', (error: Error) => {
      reported ??= error;
    });
    const thrown = await rejection(client.connect().then(() => client.ping()));
    return (reported ?? thrown).message;
  }

  /** A client logged in with a tenant's REDIS_URL; connect errors reject. */
  async function connect(url: string): Promise<Redis> {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.ping(); // a refused AUTH may only show on the first command
    return client;
  }

  it('provisions an ACL user confined to t:<id>:*; the REDIS_URL works', async () => {
    const { id, creds, url } = await provisioned();
    const parsed = new URL(url);
    expect(parsed.username).toBe(`rf-${id}`);
    expect(decodeURIComponent(parsed.password)).toBe(creds.redis);
    await provisioner.verify(dedicated(id), creds);

    const tenant = await connect(url);
    await tenant.set(`t:${id}:session`, 'ok');
    expect(await tenant.get(`t:${id}:session`)).toBe('ok');
    await tenant.hset(`t:${id}:hash`, 'a', '1');
    expect(await tenant.eval(`return redis.call('GET', KEYS[1])`, 1, `t:${id}:session`)).toBe('ok');
    expect(await tenant.call('ACL', 'WHOAMI')).toBe(`rf-${id}`);
  });

  it('is idempotent: a second ensure writes nothing and keeps the tenant connected', async () => {
    const { id, creds, url } = await provisioned();
    const tenant = await connect(url);
    await tenant.set(`t:${id}:a`, '1');
    // After this process has written one user it knows how the server renders the rules: no further writes.
    const setusersBefore = await setuserCalls();
    expect(await provisioner.ensure(dedicated(id), creds)).toEqual({ REDIS_URL: url });
    await provisioner.verify(dedicated(id), creds);
    expect(await setuserCalls()).toBe(setusersBefore);
    expect(await tenant.get(`t:${id}:a`)).toBe('1');
  });

  async function setuserCalls(): Promise<number> {
    const info = await admin.info('commandstats');
    return Number(/cmdstat_acl\|setuser:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  it('detects drift in verify and puts it back in ensure: deleted user, widened rules, changed password, disabled', async () => {
    const { id, creds, url } = await provisioned();
    const user = `rf-${id}`;
    const drifts: Array<[string, string[], string]> = [
      ['deleted user', ['ACL', 'DELUSER', user], 'RedisAclUserMissing'],
      ['all keys', ['ACL', 'SETUSER', user, 'allkeys'], 'RedisAclDrift'],
      ['all channels', ['ACL', 'SETUSER', user, 'allchannels'], 'RedisAclDrift'],
      ['SCAN allowed', ['ACL', 'SETUSER', user, '+scan'], 'RedisAclDrift'],
      ['changed password', ['ACL', 'SETUSER', user, 'resetpass', '>changed-by-hand'], 'RedisPasswordDrift'],
      ['second password', ['ACL', 'SETUSER', user, '>another-one'], 'RedisPasswordDrift'],
      ['disabled', ['ACL', 'SETUSER', user, 'off'], 'RedisAclDrift'],
    ];
    for (const [what, command, reason] of drifts) {
      await admin.call(command[0]!, ...command.slice(1));
      const error = await rejection(provisioner.verify(dedicated(id), creds));
      expect(error).toBeInstanceOf(ProvisionError);
      expect({ what, reason: error.reason }).toEqual({ what, reason });
      await provisioner.ensure(dedicated(id), creds);
      await provisioner.verify(dedicated(id), creds);
    }
    const tenant = await connect(url);
    expect(await tenant.set(`t:${id}:x`, '1')).toBe('OK');
  });

  it('proves confinement with the tenant itself, even before it knows how the server renders the rules', async () => {
    const { id, creds } = await provisioned();
    await admin.call('ACL', 'SETUSER', `rf-${id}`, '~*');
    const fresh = RedisProvisioner.create({ ...env.config.redis, sharedCheckTtlMs: 0 });
    try {
      // The admin-side comparison sees the extra key pattern; with only `+scan` added it's the tenant's probe that tells.
      expect((await rejection(fresh.verify(dedicated(id), creds))).reason).toBe('RedisAclDrift');
      await provisioner.ensure(dedicated(id), creds);
      await admin.call('ACL', 'SETUSER', `rf-${id}`, '+scan');
      const error = await rejection(fresh.verify(dedicated(id), creds));
      expect(error.reason).toBe('RedisIsolationBreach');
      expect(error.message).toContain('SCAN');
      await fresh.ensure(dedicated(id), creds);
      await fresh.verify(dedicated(id), creds);
    } finally {
      await fresh.close();
    }
  });

  it("isolates tenants: A cannot read, write, list or subscribe to B's keys and channels", async () => {
    const a = await provisioned();
    const b = await provisioned();
    const asA = await connect(a.url);
    const asB = await connect(b.url);
    await asB.set(`t:${b.id}:secret`, 'b-only');

    const refusals: Array<[string, () => Promise<unknown>]> = [
      ['GET', () => asA.get(`t:${b.id}:secret`)],
      ['SET', () => asA.set(`t:${b.id}:secret`, 'overwritten')],
      ['DEL', () => asA.del(`t:${b.id}:secret`)],
      ['RENAME into own prefix', () => asA.rename(`t:${b.id}:secret`, `t:${a.id}:stolen`)],
      ['EVAL touching B', () => asA.eval(`return redis.call('GET', KEYS[1])`, 1, `t:${b.id}:secret`)],
      ['SCAN', () => asA.scan('0', 'MATCH', `t:${b.id}:*`)],
      ['KEYS', () => asA.keys('*')],
      ['RANDOMKEY', () => asA.randomkey()],
      ['PUBLISH', () => asA.publish(`t:${b.id}:events`, 'spoofed')],
      ['SUBSCRIBE', () => track(asA.duplicate()).subscribe(`t:${b.id}:events`)],
      ['PSUBSCRIBE *', () => track(asA.duplicate()).psubscribe('*')],
      ['PUBSUB CHANNELS', () => asA.pubsub('CHANNELS')],
      ['FLUSHALL', () => asA.flushall()],
      ['CONFIG', () => asA.config('GET', '*')],
      ['ACL SETUSER', () => asA.call('ACL', 'SETUSER', `rf-${a.id}`, 'allkeys')],
      ['CLIENT LIST', () => asA.client('LIST')],
      ['SCRIPT FLUSH', () => asA.script('FLUSH')],
    ];
    for (const [what, command] of refusals) {
      const error = await rejection(command());
      expect({ what, message: error.message.slice(0, 6) }).toEqual({ what, message: 'NOPERM' });
    }
    expect(await asB.get(`t:${b.id}:secret`)).toBe('b-only');

    // A's own channel works; B's messages never reach A.
    const listener = await connect(a.url);
    const received: string[] = [];
    listener.on('message', (channel: string, message: string) => received.push(`${channel}=${message}`));
    await listener.subscribe(`t:${a.id}:events`);
    await asB.publish(`t:${b.id}:events`, 'for-b');
    await asA.publish(`t:${a.id}:events`, 'for-a');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([`t:${a.id}:events=for-a`]);
  });

  it('retain disables the user and keeps the keys; ensure re-enables it', async () => {
    const { id, creds, url } = await provisioned();
    const tenant = await connect(url);
    await tenant.set(`t:${id}:kept`, 'yes');

    await provisioner.retain(dedicated(id));
    await provisioner.retain(dedicated(id));
    expect((await rejection(tenant.get(`t:${id}:kept`))).message).toMatch(/Connection is closed|closed/i); // kicked out
    expect(await loginRefusal(url)).toMatch(/WRONGPASS/);
    expect(await admin.get(`t:${id}:kept`)).toBe('yes');

    await provisioner.ensure(dedicated(id), creds);
    await provisioner.verify(dedicated(id), creds);
    expect(await (await connect(url)).get(`t:${id}:kept`)).toBe('yes');
  });

  it('a suspended tenant cannot log in, and verify checks that', async () => {
    const { id, creds, url } = await provisioned();
    await provisioner.ensure(dedicated(id, true), creds);
    await provisioner.verify(dedicated(id, true), creds);
    expect(await loginRefusal(url)).toMatch(/WRONGPASS/);
    await admin.call('ACL', 'SETUSER', `rf-${id}`, 'on');
    expect((await rejection(provisioner.verify(dedicated(id, true), creds))).reason).toBe('RedisAclDrift');
    await provisioner.ensure(dedicated(id), creds);
    await provisioner.verify(dedicated(id), creds);
  });

  it("remove deletes the ACL user and every key t:<id>:*, and nobody else's", async () => {
    const a = await provisioned();
    const neighbour = await provisioned(); // a tenant whose id starts like a's: t:<a>-x:* must survive
    const lookalike = `${a.id}-x`;
    const pipeline = admin.pipeline();
    for (let i = 0; i < 2_500; i += 1) pipeline.set(`t:${a.id}:k${i}`, String(i));
    pipeline.set(`t:${lookalike}:keep`, '1');
    pipeline.set(`t:${neighbour.id}:keep`, '1');
    await pipeline.exec();

    await provisioner.remove(dedicated(a.id));
    await provisioner.remove(dedicated(a.id));
    expect(await admin.call('ACL', 'GETUSER', `rf-${a.id}`)).toBeNull();
    const [, left] = await admin.scan('0', 'MATCH', `t:${a.id}:*`, 'COUNT', 10_000);
    expect(left).toEqual([]);
    expect(await admin.get(`t:${lookalike}:keep`)).toBe('1');
    expect(await admin.get(`t:${neighbour.id}:keep`)).toBe('1');
    await admin.del(`t:${lookalike}:keep`);
    await provisioner.verify(dedicated(neighbour.id), neighbour.creds);
  });

  describe('shared tier', () => {
    it('creates no ACL user, checks the server answers, and remove still deletes the tenant keys', async () => {
      const id = uniqueTenantId();
      expect(await provisioner.ensure(shared(id), undefined as unknown as TenantPasswords)).toEqual({});
      expect(await admin.call('ACL', 'GETUSER', `rf-${id}`)).toBeNull();
      await provisioner.verify(shared(id), undefined as unknown as TenantPasswords);
      await admin.set(`t:${id}:cache`, '1');
      await provisioner.remove(shared(id));
      expect(await admin.exists(`t:${id}:cache`)).toBe(0);
    });
  });

  describe('when Redis cannot be reached', () => {
    it('fails fast with RedisUnavailable, whether the port refuses or the server never answers', async () => {
      const silent = await startSilentServer();
      try {
        for (const port of [1, silent.port]) {
          const adminUrl = new URL(env.redisAdminUrl);
          adminUrl.hostname = '127.0.0.1';
          adminUrl.port = String(port);
          const down = RedisProvisioner.create({ ...env.config.redis, adminUrl: adminUrl.toString(), connectTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
          try {
            const started = Date.now();
            const error = await rejection(down.ensure(dedicated(uniqueTenantId()), passwords()));
            expect({ port, reason: error.reason }).toEqual({ port, reason: 'RedisUnavailable' });
            expect(error.message).not.toContain(new URL(env.redisAdminUrl).password);
            expect(Date.now() - started).toBeLessThan(4_000);
          } finally {
            await down.close();
          }
        }
      } finally {
        await silent.close();
      }
    });
  });
});
