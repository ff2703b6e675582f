import { randomBytes, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Events, type MessageContract, type Payload } from '@rallyforge/contracts';
import { createEnvelope, toOutgoingMessage } from '@rallyforge/bus';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { freshVhost } from '@rallyforge/tools/test/infra';
import { TokenIssuer } from '@rallyforge/tools/test/token-issuer';
import { connectClient, refusedUpgrade, waitUntil, type LiveClient } from '../test/ws-client';
import { loadRealtimeConfig } from './config';
import { busServerOf, startRealtimeService } from './realtime.app';

const HEARTBEAT_MS = 200;
const MAX_CONNECTIONS = 2;

/**
 * Two realtime instances, as in a deployment with two replicas: separate HTTP ports, one Redis, one vhost (both
 * consume rf.realtime). Events are published on the exchange as a producing service would.
 */
describe('realtime service (two instances, Redis, RabbitMQ)', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let issuer: TokenIssuer;
  let a: NestFastifyApplication;
  let b: NestFastifyApplication;
  let urlA: string;
  let urlB: string;
  let amqp: ChannelModel;
  let channel: ConfirmChannel;
  const clients: LiveClient[] = [];

  // Tenants unique to this run: the Redis server is shared with other test runs.
  const suffix = randomBytes(3).toString('hex');
  const north = `rt-north-${suffix}`;
  const south = `rt-south-${suffix}`;
  const token = (sub: string, tid: string, roles = ['veteran']) => issuer.sign({ sub, tid, roles });

  async function start(): Promise<NestFastifyApplication> {
    const config = loadRealtimeConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      REDIS_URL: process.env.RF_TEST_REDIS_URL,
      AMQP_URL: vhost.url,
      AUTH_JWKS_URL: issuer.jwksUrl,
      REALTIME_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      REALTIME_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS),
    });
    return startRealtimeService(config, { handleSignals: false });
  }

  const wsUrl = (base: string, query = '') => `${base.replace(/^http/, 'ws')}/ws${query}`;
  const open = async (base: string, bearer: string) => {
    const client = await connectClient(wsUrl(base), { headers: { authorization: `Bearer ${bearer}` } });
    clients.push(client);
    return client;
  };

  /** As the producing services publish: the user the event is about caused it, and is its actor. */
  async function publish<C extends MessageContract>(contract: C, tenantId: string, payload: Payload<C>): Promise<string> {
    const data = payload as { ownerId?: string; userId?: string };
    const actor = { kind: 'user' as const, id: (data.ownerId ?? data.userId)!, roles: ['veteran'] };
    const message = toOutgoingMessage(createEnvelope(contract, payload, { tenantId, actor }));
    channel.publish(message.exchange, message.routingKey, message.content, message.options);
    await channel.waitForConfirms();
    return message.options.messageId;
  }

  const evidenceAdded = (ownerId: string) => ({
    claimId: randomUUID(),
    ownerId,
    documentId: randomUUID(),
    filename: 'dd214.pdf',
    evidenceCount: 2,
  });

  beforeAll(async () => {
    [vhost, issuer] = await Promise.all([freshVhost('realtime'), TokenIssuer.start()]);
    a = await start();
    b = await start();
    urlA = await a.getUrl();
    urlB = await b.getUrl();
    amqp = await connect(vhost.url);
    channel = await amqp.createConfirmChannel();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await amqp?.close().catch(() => undefined);
    await a?.close();
    await b?.close();
    await issuer?.close();
    await vhost?.drop();
  });

  describe('delivery across instances', () => {
    it('delivers an event consumed by instance A to the client on instance B, and to nobody else', async () => {
      const veteran = randomUUID();
      const neighbour = randomUUID();
      const target = await open(urlB, await token(veteran, north));
      const sameTenantOtherUser = await open(urlB, await token(neighbour, north));
      const otherUserOnA = await open(urlA, await token(neighbour, north));
      // The same user id in another organisation is another person: it must not receive north's events.
      const sameIdOtherTenant = await open(urlB, await token(veteran, south));

      // B stops consuming (as while draining), so only A can take the event off rf.realtime.
      await busServerOf(b).close();

      const payload = evidenceAdded(veteran);
      const id = await publish(Events.claimEvidenceAdded, north, payload);

      await waitUntil(() => target.messages.length > 0, 10_000, 'the event on instance B');
      expect(target.messages).toEqual([
        { type: 'claim.evidence_added', version: 1, id, occurredAt: expect.any(String), data: payload },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(target.messages).toHaveLength(1);
      expect(sameTenantOtherUser.messages).toEqual([]);
      expect(otherUserOnA.messages).toEqual([]);
      expect(sameIdOtherTenant.messages).toEqual([]);

      const metricsA = await (await fetch(`${urlA}/metrics`)).text();
      const metricsB = await (await fetch(`${urlB}/metrics`)).text();
      expect(metricsA).toMatch(/realtime_events_forwarded_total\{type="claim.evidence_added"\} 1/);
      expect(metricsB).toMatch(/realtime_messages_sent_total\{type="claim.evidence_added"\} 1/);
      expect(metricsB).toMatch(/realtime_connections 3/);
    });

    it("delivers each tenant's event only to that tenant's user", async () => {
      const veteran = randomUUID();
      const inNorth = await open(urlA, await token(veteran, north));
      const inSouth = await open(urlB, await token(veteran, south));

      const id = await publish(Events.claimCreated, south, { claimId: randomUUID(), ownerId: veteran, title: 'Hearing', type: 'disability', status: 'draft' });

      await waitUntil(() => inSouth.messages.length > 0);
      expect(inSouth.messages[0]).toMatchObject({ id, type: 'claim.created' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(inNorth.messages).toEqual([]);
    });

    it('delivers to every socket of the user, on both instances', async () => {
      const veteran = randomUUID();
      const onA = await open(urlA, await token(veteran, north));
      const onB = await open(urlB, await token(veteran, north));
      const id = await publish(Events.documentUploaded, north, {
        documentId: randomUUID(),
        claimId: randomUUID(),
        ownerId: veteran,
        filename: 'scan.png',
        contentType: 'image/png',
        sizeBytes: 1024,
        sha256: 'ab'.repeat(32),
      });
      await waitUntil(() => onA.messages.length > 0 && onB.messages.length > 0);
      expect(onA.messages.map((m) => m.id)).toEqual([id]);
      expect(onB.messages.map((m) => m.id)).toEqual([id]);
    });
  });

  describe('authentication at the upgrade', () => {
    it('refuses a missing, forged, expired or foreign-audience token with 401 and the error body', async () => {
      const veteran = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      const cases: Array<Record<string, string>> = [
        {},
        { authorization: `Bearer ${await issuer.forged({ sub: veteran, tid: north, roles: ['veteran'] })}` },
        { authorization: `Bearer ${await issuer.sign({ sub: veteran, tid: north, roles: ['veteran'], exp: now - 60 })}` },
        { authorization: `Bearer ${await issuer.sign({ sub: veteran, tid: north, roles: ['veteran'], aud: 'someone-else' })}` },
        { authorization: 'Basic dXNlcjpwYXNz' },
      ];
      for (const headers of cases) {
        const refusal = await refusedUpgrade(wsUrl(urlA), { headers });
        expect(refusal.status).toBe(401);
        expect(refusal.headers['www-authenticate']).toBe('Bearer');
        expect(refusal.body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: expect.any(String), requestId: expect.any(String) });
      }
      expect(await (await fetch(`${urlA}/metrics`)).text()).toMatch(/realtime_connections_refused_total\{reason="unauthenticated"\} [5-9]/);
    });

    it('accepts the token as ?token= (browsers), and rejects a bad one there too', async () => {
      const veteran = randomUUID();
      const client = await connectClient(wsUrl(urlB, `?token=${await token(veteran, north)}`));
      clients.push(client);
      const id = await publish(Events.paymentSucceeded, north, {
        paymentId: randomUUID(),
        userId: veteran,
        planId: 'basic-monthly',
        amountCents: 999,
        currency: 'USD',
        periodEnd: new Date(Date.now() + 30 * 864e5).toISOString(),
      });
      await waitUntil(() => client.messages.length > 0);
      expect(client.messages[0]).toMatchObject({ id, type: 'payment.succeeded', data: { userId: veteran, amountCents: 999 } });

      expect((await refusedUpgrade(wsUrl(urlB, '?token=not-a-jwt'))).status).toBe(401);
    });

    it('answers 404 for upgrades on other paths', async () => {
      const refusal = await refusedUpgrade(`${urlA.replace(/^http/, 'ws')}/socket`, { headers: { authorization: `Bearer ${await token(randomUUID(), north)}` } });
      expect(refusal).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    });

    it('refuses a browser origin that is neither the same host nor in CORS_ORIGINS', async () => {
      const refusal = await refusedUpgrade(wsUrl(urlA), {
        headers: { authorization: `Bearer ${await token(randomUUID(), north)}`, origin: 'https://evil.example' },
      });
      expect(refusal).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED' } });
    });
  });

  describe('connection management', () => {
    it('limits live connections per user across instances, and frees the slot on close', async () => {
      const veteran = randomUUID();
      const bearer = await token(veteran, north);
      const first = await open(urlA, bearer);
      await open(urlB, bearer);
      const refusal = await refusedUpgrade(wsUrl(urlA), { headers: { authorization: `Bearer ${bearer}` } });
      expect(refusal).toMatchObject({ status: 429, body: { statusCode: 429, code: 'TOO_MANY_CONNECTIONS' } });

      // Another user is not affected.
      await open(urlA, await token(randomUUID(), north));

      await first.close();
      await waitUntil(() => true);
      let reconnected: LiveClient | undefined;
      for (let i = 0; i < 20 && !reconnected; i++) {
        reconnected = await open(urlA, bearer).catch(() => undefined);
        if (!reconnected) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(reconnected).toBeDefined();
    });

    it('closes a socket that stops answering pings, and keeps one that answers', async () => {
      const stale = await connectClient(wsUrl(urlA), { headers: { authorization: `Bearer ${await token(randomUUID(), north)}` }, autoPong: false });
      const healthy = await open(urlA, await token(randomUUID(), north));
      const started = Date.now();
      const { code } = await stale.closed;
      expect(code).toBe(1006); // terminated: no close handshake with a peer that does not answer
      expect(Date.now() - started).toBeLessThan(HEARTBEAT_MS * 6);
      expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
    });

    it('is ready when Redis and the bus are up', async () => {
      let body: { status?: string } = {};
      for (let i = 0; i < 50 && body.status !== 'ok'; i++) {
        body = (await (await fetch(`${urlA}/health/ready`)).json()) as typeof body;
        if (body.status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' }, bus: { status: 'up' } } });
    });
  });
});
