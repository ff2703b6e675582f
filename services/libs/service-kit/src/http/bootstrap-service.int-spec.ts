import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT, generateKeyPair } from 'jose';
import { freshDatabase } from '@rallyforge/tools/test/infra';
import { LogCapture } from '../../test/log-capture';
import { TcpProxy } from '../../test/tcp-proxy';
import { TokenIssuer } from '../../test/token-issuer';
import { widgetsModule } from '../../test/fixtures/widgets.module';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { ServiceLifecycle } from '../health/service-lifecycle';
import { bootstrapService } from './bootstrap-service';

describe('bootstrapService (real HTTP, PostgreSQL, Redis)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let redisProxy: TcpProxy;
  let issuer: TokenIssuer;
  let logs: LogCapture;
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    database = await freshDatabase('service_kit');
    redisProxy = await TcpProxy.start(process.env.RF_TEST_REDIS_URL!);
    issuer = await TokenIssuer.start();
    logs = new LogCapture();
    const config = loadConfig(baseConfigSchema, {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      DATABASE_URL: database.url,
      REDIS_URL: redisProxy.url(process.env.RF_TEST_REDIS_URL!),
      AMQP_URL: 'amqp://127.0.0.1:1',
      AUTH_JWKS_URL: issuer.jwksUrl,
      BODY_LIMIT_BYTES: '1024',
      CORS_ORIGINS: 'https://app.rallyforge.test',
    });
    app = await bootstrapService({
      name: 'widgets',
      module: widgetsModule({ database: { entities: [], migrations: [] }, redis: true }),
      config,
      handleSignals: false,
      logger: { destination: logs },
    });
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await redisProxy?.close();
    await issuer?.close();
    await database?.drop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${baseUrl}${path}`, { headers });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  describe('health', () => {
    it('/health/live answers 200 without checking dependencies', async () => {
      const response = await get('/health/live');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'ok' });
    });

    it('/health/ready checks lifecycle, PostgreSQL and Redis', async () => {
      const response = await get('/health/ready');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        info: { lifecycle: { status: 'up' }, database: { status: 'up' }, redis: { status: 'up' } },
      });
    });

    it('/health/startup passes once started with no pending migration', async () => {
      const response = await get('/health/startup');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ info: { started: { status: 'up' }, migrations: { status: 'up' } } });
    });

    it('/health/ready answers 503 while Redis is unreachable, and 200 again after', async () => {
      await redisProxy.cut();
      try {
        await waitFor(async () => (await get('/health/ready')).status === 503);
        const body = (await (await get('/health/ready')).json()) as Record<string, Record<string, unknown>>;
        expect(body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
        expect(body.info).toMatchObject({ database: { status: 'up' } });
        // liveness does not care
        expect((await get('/health/live')).status).toBe(200);
      } finally {
        await redisProxy.restore();
      }
      await waitFor(async () => (await get('/health/ready')).status === 200, 10_000);
    });
  });

  describe('API conventions', () => {
    it('serves the API under /api/v1 and probes outside it', async () => {
      expect((await get('/api/v1/widgets/missing')).status).toBe(404);
      expect((await get('/widgets/missing')).status).toBe(404);
      expect((await get('/api/v1/health/live')).status).toBe(404);
    });

    it('answers errors with { statusCode, code, message, requestId } and echoes x-request-id', async () => {
      const response = await get('/api/v1/widgets/missing', { 'x-request-id': 'gateway-req-42' });
      expect(response.headers.get('x-request-id')).toBe('gateway-req-42');
      expect(await response.json()).toEqual({
        statusCode: 404,
        code: 'NOT_FOUND',
        message: 'Widget not found',
        requestId: 'gateway-req-42',
      });
    });

    it('generates a request id when the caller sends none or a bad one', async () => {
      const response = await get('/api/v1/nowhere', { 'x-request-id': 'bad id\twith tab' });
      const body = (await response.json()) as { requestId: string; code: string };
      expect(body.code).toBe('NOT_FOUND');
      expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('x-request-id')).toBe(body.requestId);
    });

    it('rejects unknown DTO fields with 400 VALIDATION_FAILED', async () => {
      const response = await post('/api/v1/widgets/public', JSON.stringify({ name: 'w', size: 3, admin: true }));
      expect(response.status).toBe(400);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toEqual({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: 'property admin should not exist',
        requestId: response.headers.get('x-request-id'),
      });
    });

    it('validates and transforms a good DTO', async () => {
      const response = await post('/api/v1/widgets/public', JSON.stringify({ name: 'w', size: 3 }));
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ name: 'w', size: 3 });
    });

    it('rejects malformed JSON with 400', async () => {
      const response = await post('/api/v1/widgets/public', '{"name":');
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST' });
    });

    it('rejects a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
      const response = await post('/api/v1/widgets/public', JSON.stringify({ name: 'x'.repeat(2048), size: 1 }));
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', requestId: expect.any(String) });
    });

    it('hides the details of unexpected errors', async () => {
      const response = await get('/api/v1/widgets/boom');
      expect(response.status).toBe(500);
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ statusCode: 500, code: 'INTERNAL', message: 'Internal server error' });
      expect(body).not.toContain('secret_table');
      expect(logs.find((line) => line.msg === 'Request failed with a server error').length).toBeGreaterThan(0);
    });

    it('sets the security headers', async () => {
      const response = await get('/health/live');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('x-xss-protection')).toBe('0');
      expect(response.headers.get('x-powered-by')).toBeNull();
    });

    it('allows CORS only for listed origins', async () => {
      const preflight = (origin: string) =>
        fetch(`${baseUrl}/api/v1/widgets/me`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
        });
      const allowed = await preflight('https://app.rallyforge.test');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.rallyforge.test');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      const refused = await preflight('https://evil.example');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('lets a browser send Idempotency-Key on a cross-origin write', async () => {
      const response = await fetch(`${baseUrl}/api/v1/widgets/me`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.rallyforge.test',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });
      expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    });

    it('serves the OpenAPI document at /api/v1/<name>/docs-json', async () => {
      const response = await get('/api/v1/widgets/docs-json');
      expect(response.status).toBe(200);
      const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toMatch(/^3\./);
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/widgets/me', '/api/v1/widgets']));
      expect(Object.keys(document.paths).some((path) => path.includes('health') || path.includes('metrics'))).toBe(false);
    });
  });

  describe('authentication', () => {
    it('refuses a request without a token', async () => {
      const response = await get('/api/v1/widgets/me');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: 'Missing bearer token' });
    });

    it.each([
      ['a malformed header', () => Promise.resolve({ authorization: 'Basic dXNlcjpwYXNz' })],
      ['garbage', () => Promise.resolve(bearer('not.a.jwt'))],
      ['alg=none', () => Promise.resolve(bearer(issuer.unsigned()))],
      ['an expired token', async () => bearer(await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 }))],
      ['another issuer', async () => bearer(await issuer.sign({ iss: 'someone-else' }))],
      ['another audience', async () => bearer(await issuer.sign({ aud: 'other-app' }))],
      ['no tenant', async () => bearer(await issuer.sign({ tid: undefined }))],
      ['roles that are not a list', async () => bearer(await issuer.sign({ roles: 'admin' }))],
      [
        'a key the JWKS does not hold',
        async () => bearer(await issuer.sign({}, (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey)),
      ],
      [
        'HS256 (algorithm confusion)',
        async () =>
          bearer(
            await new SignJWT({ tid: 'tenant-1', roles: ['admin'] })
              .setProtectedHeader({ alg: 'HS256', kid: issuer.kid })
              .setSubject('user-1')
              .setIssuer('rallyforge-auth')
              .setAudience('rallyforge')
              .setExpirationTime('5m')
              .sign(new TextEncoder().encode('a-shared-secret-of-enough-length!')),
          ),
      ],
    ])('refuses %s with 401 UNAUTHENTICATED', async (_case, headers) => {
      const response = await get('/api/v1/widgets/me', await headers());
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
    });

    it('says when a token expired', async () => {
      const token = await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 });
      expect(await (await get('/api/v1/widgets/me', bearer(token))).json()).toMatchObject({ message: 'Access token expired' });
    });

    it('accepts a valid Ed25519 token and logs the tenant', async () => {
      const token = await issuer.sign({ sub: 'user-7', tid: 'tenant-7', roles: ['member'], email: 'vet@example.org' });
      const response = await get('/api/v1/widgets/me', { ...bearer(token), 'x-request-id': 'req-tenant-7' });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        userId: 'user-7',
        tenantId: 'tenant-7',
        roles: ['member'],
        email: 'vet@example.org',
      });
      // the handler's own line and the completion line both carry the request's context
      const handlerLine = logs.find((line) => line.msg === 'Handled a widget request' && line.requestId === 'req-tenant-7');
      expect(handlerLine[0]).toMatchObject({ tenantId: 'tenant-7', userId: 'user-7', context: 'WidgetsController' });
      const completed = logs.find((line) => line.msg === 'Request completed' && line.requestId === 'req-tenant-7');
      expect(completed[0]).toMatchObject({
        tenantId: 'tenant-7',
        route: '/api/v1/widgets/me',
        method: 'GET',
        statusCode: 200,
      });
      expect(JSON.stringify(logs.lines)).not.toContain(token);
      expect(JSON.stringify(logs.lines)).not.toContain('vet@example.org');
    });

    it('checks @Roles after authentication: 403 FORBIDDEN without the role', async () => {
      const member = await get('/api/v1/widgets/admin', bearer(await issuer.sign({ roles: ['member'] })));
      expect(member.status).toBe(403);
      expect(await member.json()).toMatchObject({ code: 'FORBIDDEN' });
      const admin = await get('/api/v1/widgets/admin', bearer(await issuer.sign({ roles: ['admin'] })));
      expect(admin.status).toBe(200);
    });

    it('validates DTOs on authenticated routes after authentication', async () => {
      const anonymous = await post('/api/v1/widgets', JSON.stringify({ name: 'w' }));
      expect(anonymous.status).toBe(401);
      const authenticated = await post('/api/v1/widgets', JSON.stringify({ name: 'w' }), bearer(await issuer.sign()));
      expect(authenticated.status).toBe(400);
      expect(await authenticated.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });

  describe('metrics', () => {
    it('counts requests by route template, method and status, and times them', async () => {
      // a key of this run only: the test Redis is shared and outlives the run
      const key = randomUUID();
      expect(await (await get(`/api/v1/widgets/cached/${key}`)).json()).toEqual({ value: `loaded ${key}` });
      expect(await (await get(`/api/v1/widgets/cached/${key}`)).json()).toEqual({ value: `loaded ${key}` });
      const text = await (await get('/metrics')).text();
      expect(text).toMatch(/^http_requests_total\{method="GET",route="\/api\/v1\/widgets\/cached\/:key",status_code="200"\} 2$/m);
      expect(text).toMatch(/^http_requests_total\{method="GET",route="\/health\/live",status_code="200"\} \d+$/m);
      expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/widgets\/cached\/:key",status_code="200"\} \d+$/m);
      expect(text).toMatch(/^http_requests_total\{method="GET",route="unmatched",status_code="404"\} \d+$/m);
    });

    it('includes default process metrics, pool gauges and cache hits/misses', async () => {
      const text = await (await get('/metrics')).text();
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect(text).toMatch(/^db_pool_connections\{state="total"\} [1-9]\d*$/m);
      expect(text).toMatch(/^db_pool_connections\{state="idle"\} \d+$/m);
      expect(text).toMatch(/^db_pool_connections\{state="waiting"\} 0$/m);
      expect(text).toMatch(/^cache_requests_total\{result="miss"\} [1-9]\d*$/m);
      expect(text).toMatch(/^cache_requests_total\{result="hit"\} [1-9]\d*$/m);
    });

    it('is served as Prometheus text outside /api/v1 without authentication', async () => {
      const response = await get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
    });
  });

  describe('shutdown', () => {
    it('fails readiness once shutdown begins, while liveness still passes', async () => {
      app.get(ServiceLifecycle).beginShutdown();
      const response = await get('/health/ready');
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { lifecycle: { status: 'down', state: 'shutting_down' } } });
      expect((await get('/health/live')).status).toBe(200);
    });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
