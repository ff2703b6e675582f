import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { EventTap } from '../test/event-tap';
import { TokenIssuer } from '@rallyforge/tools/test/token-issuer';
import { loadPaymentsConfig } from './config';
import { migrate } from './migrate';
import { startPaymentsService } from './payments.app';

/**
 * The payments service as deployed: real HTTP port, real PostgreSQL (fresh database, migrated by migrate.ts),
 * real RabbitMQ (fresh vhost), tokens signed with Ed25519 and verified through a JWKS URL.
 */
describe('payments service (HTTP, PostgreSQL, RabbitMQ)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let issuer: TokenIssuer;
  let tap: EventTap;
  let app: NestFastifyApplication;
  let db: Client;
  let baseUrl: string;

  const tenant = 'vso-north';
  const otherTenant = 'vso-south';
  const alice = randomUUID();
  const bob = randomUUID();
  const admin = randomUUID();
  const mallory = randomUUID(); // a veteran of the other organisation
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    [database, vhost, issuer] = await Promise.all([freshDatabase('payments'), freshVhost('payments'), TokenIssuer.start()]);
    // As deployed: migrations as the owner role, the service as the runtime role (Row-Level Security applies to it).
    await migrate({ MIGRATION_DATABASE_URL: database.ownerUrl, DATABASE_URL: database.appUrl, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    tap = await EventTap.start(vhost.url, ['payment.*']);
    const config = loadPaymentsConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.appUrl,
      AMQP_URL: vhost.url,
      REDIS_URL: process.env.RF_TEST_REDIS_URL,
      AUTH_JWKS_URL: issuer.jwksUrl,
      PAYMENT_PROVIDER: 'dev-instant',
    });
    app = await startPaymentsService(config, { handleSignals: false });
    baseUrl = await app.getUrl();
    db = new Client({ connectionString: database.url });
    await db.connect();
    tokens.alice = await issuer.sign({ sub: alice, tid: tenant, roles: ['veteran'] });
    tokens.bob = await issuer.sign({ sub: bob, tid: tenant, roles: ['veteran'] });
    tokens.admin = await issuer.sign({ sub: admin, tid: tenant, roles: ['org_admin'] });
    tokens.mallory = await issuer.sign({ sub: mallory, tid: otherTenant, roles: ['veteran'] });
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await tap?.close();
    await issuer?.close();
    await vhost?.drop();
    await database?.drop();
  });

  const request = (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${baseUrl}/api/v1/payments${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
  const checkout = (who: string, planId: unknown, headers: Record<string, string> = {}) =>
    request('POST', '/checkout', { token: tokens[who], body: { planId }, headers });

  async function expectError(response: Response, statusCode: number, code: string): Promise<{ message: string }> {
    const body = (await response.json()) as { statusCode: number; code: string; message: string; requestId: string };
    expect({ status: response.status, statusCode: body.statusCode, code: body.code }).toEqual({ status: statusCode, statusCode, code });
    expect(typeof body.message).toBe('string');
    expect(body.requestId).toEqual(expect.any(String));
    return body;
  }

  describe('GET /plans', () => {
    it('lists the plans without a token (public price list)', async () => {
      const response = await request('GET', '/plans');
      expect(response.status).toBe(200);
      const { items } = (await response.json()) as { items: Array<Record<string, unknown>> };
      expect(items).toContainEqual({ id: 'basic-monthly', name: 'Basic', amountCents: 999, currency: 'USD', interval: 'month' });
      expect(items.map((p) => p.id)).toContain('pro-monthly');
    });
  });

  describe('POST /checkout', () => {
    it('needs a valid token', async () => {
      await expectError(await request('POST', '/checkout', { body: { planId: 'basic-monthly' } }), 401, 'UNAUTHENTICATED');
      const forged = await issuer.forged({ sub: alice, tid: tenant, roles: ['veteran'] });
      await expectError(await checkout('x', 'basic-monthly', { authorization: `Bearer ${forged}` }), 401, 'UNAUTHENTICATED');
    });

    it('completes a checkout with the dev provider, stores it and publishes payment.succeeded', async () => {
      const response = await checkout('alice', 'basic-monthly');
      expect(response.status).toBe(201);
      const payment = (await response.json()) as Record<string, unknown>;
      expect(payment).toMatchObject({
        userId: alice,
        planId: 'basic-monthly',
        amountCents: 999,
        currency: 'USD',
        status: 'succeeded',
        provider: 'dev-instant',
        checkoutUrl: null,
      });
      expect(payment).not.toHaveProperty('providerRef');
      const periodEnd = new Date(payment.periodEnd as string);
      expect(periodEnd.getTime()).toBeGreaterThan(Date.now() + 27 * 24 * 3600 * 1000);

      const { rows } = await db.query('SELECT * FROM payments WHERE id = $1', [payment.id]);
      expect(rows).toEqual([
        expect.objectContaining({
          tenant_id: tenant,
          user_id: alice,
          plan_id: 'basic-monthly',
          amount_cents: 999,
          currency: 'USD',
          status: 'succeeded',
          provider: 'dev-instant',
          provider_ref: `dev_${String(payment.id)}`,
        }),
      ]);

      const message = await tap.waitFor((e) => (e.data as { paymentId?: string }).paymentId === payment.id);
      expect(message.fields.routingKey).toBe('payment.succeeded');
      expect(message.properties.headers?.['x-rf-tenant-id']).toBe(tenant);
      expect(JSON.parse(message.content.toString())).toMatchObject({
        type: 'payment.succeeded',
        version: 1,
        tenantId: tenant,
        actor: { kind: 'user', id: alice },
        data: { paymentId: payment.id, userId: alice, planId: 'basic-monthly', amountCents: 999, currency: 'USD', periodEnd: periodEnd.toISOString() },
      });
    });

    it('returns the same payment for a repeated Idempotency-Key, and publishes one event', async () => {
      const key = `order-${randomUUID()}`;
      const first = (await (await checkout('alice', 'pro-monthly', { 'idempotency-key': key })).json()) as { id: string };
      const again = await checkout('alice', 'pro-monthly', { 'idempotency-key': key });
      expect(again.status).toBe(201);
      expect(((await again.json()) as { id: string }).id).toBe(first.id);

      // Concurrent retries race on the unique index, not in the code: still one payment.
      const racing = await Promise.all([1, 2, 3, 4].map(() => checkout('alice', 'pro-monthly', { 'idempotency-key': key })));
      const ids = await Promise.all(racing.map(async (r) => ((await r.json()) as { id: string }).id));
      expect(new Set(ids)).toEqual(new Set([first.id]));

      const { rows } = await db.query('SELECT count(*)::int AS n FROM payments WHERE idempotency_key = $1', [key]);
      expect(rows[0].n).toBe(1);
      await tap.waitFor((e) => (e.data as { paymentId?: string }).paymentId === first.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(tap.envelopes<{ data: { paymentId: string } }>().filter((e) => e.data.paymentId === first.id)).toHaveLength(1);
    });

    it('scopes keys to the user: the same key from another user is another payment', async () => {
      const key = `shared-${randomUUID()}`;
      const a = (await (await checkout('alice', 'basic-monthly', { 'idempotency-key': key })).json()) as { id: string; userId: string };
      const b = (await (await checkout('bob', 'basic-monthly', { 'idempotency-key': key })).json()) as { id: string; userId: string };
      expect(a.id).not.toBe(b.id);
      expect([a.userId, b.userId]).toEqual([alice, bob]);
    });

    it('refuses a key reused for another plan with 409 IDEMPOTENCY_KEY_REUSED', async () => {
      const key = `plan-${randomUUID()}`;
      expect((await checkout('alice', 'basic-monthly', { 'idempotency-key': key })).status).toBe(201);
      await expectError(await checkout('alice', 'pro-monthly', { 'idempotency-key': key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    });

    it('answers 404 PLAN_NOT_FOUND for an unknown plan and stores nothing', async () => {
      const before = await db.query('SELECT count(*)::int AS n FROM payments');
      const body = await expectError(await checkout('alice', 'gold-forever'), 404, 'PLAN_NOT_FOUND');
      expect(body.message).toContain('gold-forever');
      expect((await db.query('SELECT count(*)::int AS n FROM payments')).rows[0].n).toBe(before.rows[0].n);
    });

    it('answers 400 VALIDATION_FAILED for a bad body', async () => {
      await expectError(await request('POST', '/checkout', { token: tokens.alice, body: {} }), 400, 'VALIDATION_FAILED');
      await expectError(await checkout('alice', 42), 400, 'VALIDATION_FAILED');
      await expectError(await checkout('alice', 'Basic Monthly!'), 400, 'VALIDATION_FAILED');
      const extra = await request('POST', '/checkout', { token: tokens.alice, body: { planId: 'basic-monthly', amountCents: 1 } });
      expect((await expectError(extra, 400, 'VALIDATION_FAILED')).message).toContain('amountCents');
      await expectError(await request('POST', '/checkout', { token: tokens.alice, body: '{"planId":' }), 400, 'BAD_REQUEST');
    });

    it('answers 400 INVALID_IDEMPOTENCY_KEY for a malformed key', async () => {
      await expectError(await checkout('alice', 'basic-monthly', { 'idempotency-key': 'x'.repeat(256) }), 400, 'INVALID_IDEMPOTENCY_KEY');
    });
  });

  describe('GET / and GET /:id', () => {
    let alicePayment: string;
    let bobPayment: string;
    let malloryPayment: string;

    beforeAll(async () => {
      alicePayment = ((await (await checkout('alice', 'basic-monthly')).json()) as { id: string }).id;
      bobPayment = ((await (await checkout('bob', 'basic-monthly')).json()) as { id: string }).id;
      malloryPayment = ((await (await checkout('mallory', 'basic-monthly')).json()) as { id: string }).id;
    });

    const ids = async (response: Response) => {
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: Array<{ id: string; userId: string }> }).items;
    };

    it('shows a veteran only their own payments, newest first', async () => {
      const items = await ids(await request('GET', '', { token: tokens.alice }));
      expect(items.map((p) => p.id)).toContain(alicePayment);
      expect(items.every((p) => p.userId === alice)).toBe(true);
      expect(items[0]?.id).toBe(alicePayment);
    });

    it("shows an org admin the organisation's payments, never another organisation's", async () => {
      const items = await ids(await request('GET', '?limit=100', { token: tokens.admin }));
      const listed = items.map((p) => p.id);
      expect(listed).toEqual(expect.arrayContaining([alicePayment, bobPayment]));
      expect(listed).not.toContain(malloryPayment);
    });

    it('pages with limit and offset, and validates them', async () => {
      const page = await request('GET', '?limit=1&offset=1', { token: tokens.alice });
      expect(((await page.json()) as { items: unknown[]; limit: number; offset: number })).toMatchObject({ limit: 1, offset: 1, items: [expect.anything()] });
      await expectError(await request('GET', '?limit=0', { token: tokens.alice }), 400, 'VALIDATION_FAILED');
      await expectError(await request('GET', '?limit=abc', { token: tokens.alice }), 400, 'VALIDATION_FAILED');
      await expectError(await request('GET', '?tenantId=vso-south', { token: tokens.alice }), 400, 'VALIDATION_FAILED');
    });

    it("answers 404 for another veteran's or another organisation's payment", async () => {
      expect((await request('GET', `/${alicePayment}`, { token: tokens.alice })).status).toBe(200);
      expect((await request('GET', `/${alicePayment}`, { token: tokens.admin })).status).toBe(200);
      await expectError(await request('GET', `/${alicePayment}`, { token: tokens.bob }), 404, 'PAYMENT_NOT_FOUND');
      await expectError(await request('GET', `/${alicePayment}`, { token: tokens.mallory }), 404, 'PAYMENT_NOT_FOUND');
      await expectError(await request('GET', `/${malloryPayment}`, { token: tokens.admin }), 404, 'PAYMENT_NOT_FOUND');
      await expectError(await request('GET', '/not-a-uuid', { token: tokens.alice }), 400, 'BAD_REQUEST');
    });
  });

  describe('service contract', () => {
    it('is ready once PostgreSQL and the bus are up', async () => {
      let body: { status?: string; info?: Record<string, unknown> } = {};
      for (let i = 0; i < 50 && body.status !== 'ok'; i++) {
        body = (await (await fetch(`${baseUrl}/health/ready`)).json()) as typeof body;
        if (body.status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, bus: { status: 'up' } } });
    });

    it('documents its API at /api/v1/payments/docs-json', async () => {
      const response = await fetch(`${baseUrl}/api/v1/payments/docs-json`);
      expect(response.status).toBe(200);
      const document = (await response.json()) as { paths: Record<string, unknown> };
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/api/v1/payments/plans', '/api/v1/payments/checkout', '/api/v1/payments', '/api/v1/payments/{id}']),
      );
    });
  });
});
