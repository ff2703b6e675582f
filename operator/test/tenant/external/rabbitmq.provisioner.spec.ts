import * as amqp from 'amqplib';
import type { TenantPasswords } from '../../../src/tenant/credentials';
import { ProvisionError, RabbitMqProvisioner, tenantVhost } from '../../../src/tenant/external';
import {
  dedicated, passwords, rejection, shared, startExternalTestEnv, startSilentServer, uniqueTenantId, type ExternalTestEnv,
} from './external-test-env';

/** How amqplib reports a vhost the broker refuses to open (it closes the connection instead of ConnectionOpenOk). */
const VHOST_REFUSED = /Expected ConnectionOpenOk|NOT_ALLOWED|access to vhost/i;

/** RabbitMQ layer against the real broker: vhost, user, permissions, drift, isolation, retain/remove. */
describe('RabbitMqProvisioner', () => {
  let env: ExternalTestEnv;
  let platformVhost: string;
  let provisioner: RabbitMqProvisioner;
  const cleanup: string[] = [];

  beforeAll(async () => {
    env = await startExternalTestEnv();
    platformVhost = await env.createPlatformVhost();
    provisioner = RabbitMqProvisioner.create({ ...env.config.rabbitmq, platformVhost, sharedCheckTtlMs: 0 });
  });

  afterAll(async () => {
    for (const id of cleanup) await provisioner.remove(dedicated(id)).catch(() => undefined);
    await provisioner?.close();
    await env?.close();
  });

  async function provisioned(): Promise<{ id: string; creds: TenantPasswords; url: string }> {
    const id = uniqueTenantId();
    cleanup.push(id);
    const creds = passwords();
    const { AMQP_URL } = await provisioner.ensure(dedicated(id), creds);
    return { id, creds, url: AMQP_URL! };
  }

  async function connect(url: string): Promise<amqp.ChannelModel> {
    const connection = await amqp.connect(url, { timeout: 5_000 });
    connection.on('error', () => undefined);
    return connection;
  }

  const user = async (name: string) => (await (await env.management('GET', `/users/${name}`)).json()) as { password_hash: string; tags: string[] };
  const permissions = async (name: string) =>
    ((await (await env.management('GET', `/users/${name}/permissions`)).json()) as Array<{ vhost: string; configure: string }>).map((p) => p.vhost).sort();

  it('provisions a vhost and a user with full rights on it and nothing else; the AMQP_URL works', async () => {
    const { id, creds, url } = await provisioned();
    const parsed = new URL(url);
    expect(parsed.protocol).toBe('amqp:');
    expect(parsed.username).toBe(`rf-${id}`);
    expect(decodeURIComponent(parsed.password)).toBe(creds.rabbitmq);
    expect(decodeURIComponent(parsed.pathname.slice(1))).toBe(`rf-${id}`);
    expect(await permissions(`rf-${id}`)).toEqual([`rf-${id}`]);
    expect((await user(`rf-${id}`)).tags).toEqual([]);

    await provisioner.verify(dedicated(id), creds);
    const connection = await connect(url);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue('claims', { durable: true });
      channel.sendToQueue('claims', Buffer.from('hello'));
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it('is idempotent: a second ensure changes nothing (same password hash, same permissions)', async () => {
    const { id, creds, url } = await provisioned();
    const before = await user(`rf-${id}`);
    expect(await provisioner.ensure(dedicated(id), creds)).toEqual({ AMQP_URL: url });
    expect((await user(`rf-${id}`)).password_hash).toBe(before.password_hash);
    await provisioner.verify(dedicated(id), creds);
  });

  it('detects drift in verify and corrects it in ensure', async () => {
    const { id, creds } = await provisioned();
    const other = await provisioned();
    const name = `rf-${id}`;
    const drifts: Array<[string, () => Promise<Response>, string]> = [
      ['revoked permission', () => env.management('DELETE', `/permissions/${name}/${name}`), 'VhostPermissionMissing'],
      ['narrowed permission', () => env.management('PUT', `/permissions/${name}/${name}`, { configure: '', write: '.*', read: '.*' }), 'VhostPermissionDrift'],
      ['extra permission', () => env.management('PUT', `/permissions/${platformVhost}/${name}`, { configure: '.*', write: '.*', read: '.*' }), 'VhostPermissionDrift'],
      ['another tenant let in', () => env.management('PUT', `/permissions/${name}/rf-${other.id}`, { configure: '.*', write: '.*', read: '.*' }), 'VhostForeignPermission'],
      ['changed password', () => env.management('PUT', `/users/${name}`, { password: 'changed-by-hand', tags: '' }), 'RabbitPasswordDrift'],
      ['administrator tag', () => env.management('PUT', `/users/${name}`, { password: creds.rabbitmq, tags: 'administrator' }), 'RabbitUserTagsDrift'],
      ['deleted user', () => env.management('DELETE', `/users/${name}`), 'RabbitUserMissing'],
      ['deleted vhost', () => env.management('DELETE', `/vhosts/${name}`), 'VhostMissing'],
    ];
    for (const [what, change, reason] of drifts) {
      expect({ what, ok: (await change()).ok }).toEqual({ what, ok: true });
      const error = await rejection(provisioner.verify(dedicated(id), creds));
      expect(error).toBeInstanceOf(ProvisionError);
      expect({ what, reason: error.reason }).toEqual({ what, reason });
      await provisioner.ensure(dedicated(id), creds);
      await provisioner.verify(dedicated(id), creds);
    }
    expect(await permissions(name)).toEqual([name]);
    expect(await permissions(`rf-${other.id}`)).toEqual([`rf-${other.id}`]);
  });

  it("isolates tenants: A's credentials cannot open B's vhost", async () => {
    const a = await provisioned();
    const b = await provisioned();
    const intoB = new URL(a.url);
    intoB.pathname = `/${tenantVhost(b.id)}`;
    const refused = await rejection(connect(intoB.toString()));
    expect(refused.message).toMatch(VHOST_REFUSED);
    const intoPlatform = new URL(a.url);
    intoPlatform.pathname = `/${platformVhost}`;
    expect((await rejection(connect(intoPlatform.toString()))).message).toMatch(VHOST_REFUSED);
    const wrongPassword = new URL(b.url);
    wrongPassword.password = encodeURIComponent(a.creds.rabbitmq);
    expect((await rejection(connect(wrongPassword.toString()))).message).toMatch(/ACCESS_REFUSED/);
  });

  it('retain locks the user out and keeps the vhost with its messages; ensure lets it back in', async () => {
    const { id, creds, url } = await provisioned();
    const setup = await connect(url);
    const channel = await setup.createConfirmChannel();
    await channel.assertQueue('kept', { durable: true });
    channel.sendToQueue('kept', Buffer.from('still here'), { persistent: true });
    await channel.waitForConfirms();
    await setup.close();

    await provisioner.retain(dedicated(id));
    await provisioner.retain(dedicated(id));
    expect(await permissions(`rf-${id}`)).toEqual([]);
    expect((await rejection(connect(url))).message).toMatch(VHOST_REFUSED);
    const queue = (await (await env.management('GET', `/queues/${tenantVhost(id)}/kept`)).json()) as { messages?: number; name: string };
    expect(queue.name).toBe('kept');

    await provisioner.ensure(dedicated(id), creds);
    await provisioner.verify(dedicated(id), creds);
    const back = await connect(url);
    try {
      const ch = await back.createChannel();
      const message = await ch.get('kept', { noAck: true });
      expect(message && message.content.toString()).toBe('still here');
    } finally {
      await back.close();
    }
  });

  it('a suspended tenant has no permissions, and verify checks that', async () => {
    const { id, creds, url } = await provisioned();
    await provisioner.ensure(dedicated(id, true), creds);
    await provisioner.verify(dedicated(id, true), creds);
    expect((await rejection(connect(url))).message).toMatch(VHOST_REFUSED);
    await env.management('PUT', `/permissions/rf-${id}/rf-${id}`, { configure: '.*', write: '.*', read: '.*' });
    expect((await rejection(provisioner.verify(dedicated(id, true), creds))).reason).toBe('VhostPermissionDrift');
    await provisioner.ensure(dedicated(id), creds);
    await provisioner.verify(dedicated(id), creds);
  });

  it('remove deletes the vhost and the user; twice is fine', async () => {
    const { id } = await provisioned();
    await provisioner.remove(dedicated(id));
    await provisioner.remove(dedicated(id));
    expect((await env.management('GET', `/vhosts/rf-${id}`)).status).toBe(404);
    expect((await env.management('GET', `/users/rf-${id}`)).status).toBe(404);
  });

  describe('shared tier', () => {
    it('creates nothing per tenant and checks the platform vhost', async () => {
      const id = uniqueTenantId();
      expect(await provisioner.ensure(shared(id), undefined as unknown as TenantPasswords)).toEqual({});
      expect((await env.management('GET', `/vhosts/rf-${id}`)).status).toBe(404);
      await provisioner.verify(shared(id), undefined as unknown as TenantPasswords);

      const missing = RabbitMqProvisioner.create({ ...env.config.rabbitmq, platformVhost: 'rfx-no-such-vhost', sharedCheckTtlMs: 0 });
      const error = await rejection(missing.verify(shared(id), undefined as unknown as TenantPasswords));
      expect(error.reason).toBe('PlatformVhostMissing');
      expect(error.message).toContain('rfx-no-such-vhost');
    });
  });

  describe('when RabbitMQ cannot be reached', () => {
    it('fails fast with RabbitMqUnavailable; a wrong admin password says so', async () => {
      const silent = await startSilentServer();
      try {
        for (const managementUrl of ['http://127.0.0.1:1', `http://127.0.0.1:${silent.port}`]) {
          const down = RabbitMqProvisioner.create({ ...env.config.rabbitmq, managementUrl, platformVhost, connectTimeoutMs: 1_000 });
          const started = Date.now();
          const error = await rejection(down.ensure(dedicated(uniqueTenantId()), passwords()));
          expect({ managementUrl, reason: error.reason }).toEqual({ managementUrl, reason: 'RabbitMqUnavailable' });
          expect(Date.now() - started).toBeLessThan(3_000);
        }
      } finally {
        await silent.close();
      }
      // The management API answers but the AMQP port the tenant's login is proven on does not.
      const { id, creds } = await provisioned();
      const amqpDown = RabbitMqProvisioner.create({ ...env.config.rabbitmq, amqpUrl: 'amqp://127.0.0.1:1', platformVhost, connectTimeoutMs: 1_000 });
      const probe = await rejection(amqpDown.verify(dedicated(id), creds));
      expect(probe.reason).toBe('RabbitMqUnavailable');
      expect(probe.message).toContain('RF_OPERATOR_RABBITMQ_AMQP_URL');

      const wrong = RabbitMqProvisioner.create({ ...env.config.rabbitmq, adminPassword: 'not-the-password', platformVhost });
      const error = await rejection(wrong.verify(shared(uniqueTenantId()), undefined as unknown as TenantPasswords));
      expect(error.reason).toBe('RabbitMqAdminLoginFailed');
    });
  });
});
