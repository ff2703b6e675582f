/**
 * Hostile user, part 1: access tokens. Every documented operation of every service (from their OpenAPI documents)
 * and realtime's WebSocket are called with tokens an attacker can make (tampered, expired, alg none, HS256 keyed
 * with the public key, RS256/ES256/Ed448 where EdDSA is expected, wrong issuer or audience, unknown kid, another
 * deployment's key, missing claims) and must answer 401 in the standard error shape, never 5xx; anonymous calls get
 * 401 everywhere except on the operations listed public, with a reason, in api-catalogue.ts.
 */
import { connectClient, refusedUpgrade } from '@rallyforge/realtime/test/ws-client';
import { startInProcessPlatform, type ApiResponse, type InProcessPlatform, type Member } from '../../test/in-process-platform';
import { fillPath, loadApiOperations, PUBLIC_OPERATIONS, stale, type ApiOperation } from './api-catalogue';
import { forgeTokens, type TokenForgery } from './forged-tokens';

/** The one browser origin the services are configured to allow (CORS_ORIGINS). */
const ALLOWED_ORIGIN = 'https://app.example.org';

/** The seed's security headers as the services set them (service-kit/src/http/security-headers.ts). */
const SECURITY_HEADERS: Record<string, string | RegExp> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'content-security-policy': /^default-src 'none';.*frame-ancestors 'self'/,
  'x-xss-protection': '0',
};

function expectSecurityHeaders(op: ApiOperation, headers: Headers): void {
  for (const [name, expected] of Object.entries(SECURITY_HEADERS)) {
    const value = headers.get(name) ?? '';
    const ok = typeof expected === 'string' ? value === expected : expected.test(value);
    expect({ op: op.key, header: name, value: ok ? 'as required' : value }).toEqual({ op: op.key, header: name, value: 'as required' });
  }
  expect(headers.get('x-powered-by')).toBeNull();
}

let platform: InProcessPlatform;
let operations: ApiOperation[];
let protectedOperations: ApiOperation[];
let veteran: Member;
let forgery: TokenForgery;

beforeAll(async () => {
  const cors = { CORS_ORIGINS: ALLOWED_ORIGIN };
  platform = await startInProcessPlatform('hostile_tokens', { auth: cors, services: cors });
  operations = await loadApiOperations(platform);
  protectedOperations = operations.filter((op) => !(op.key in PUBLIC_OPERATIONS));
  const org = await platform.organisation('tokens');
  veteran = await platform.member(org, 'victor');
  forgery = await forgeTokens(platform, veteran);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

const call = (op: ApiOperation, headers: Record<string, string>) =>
  platform.call(op.service, op.method, fillPath(op.path), { headers });

function expectUnauthenticated(op: ApiOperation, response: ApiResponse, label: string): void {
  const seen = { op: op.key, token: label, status: response.status, body: response.body };
  expect(seen).toEqual({
    op: op.key,
    token: label,
    status: 401,
    body: { statusCode: 401, code: 'UNAUTHENTICATED', message: expect.any(String), requestId: expect.any(String) },
  });
  expect(response.headers.get('www-authenticate')).toBe('Bearer');
}

describe('the operation inventory', () => {
  it('finds every service’s operations in its OpenAPI document, and no stale public entry', () => {
    for (const service of ['auth', 'claims', 'payments', 'documents'] as const) {
      expect(operations.filter((op) => op.service === service).length).toBeGreaterThan(0);
    }
    expect(stale(operations, PUBLIC_OPERATIONS)).toEqual([]);
  });

  it('answers 401 to an anonymous call of every operation not listed public, and serves the public ones', async () => {
    for (const op of operations) {
      const response = await call(op, {});
      expect(response.status).toBeLessThan(500);
      expectSecurityHeaders(op, response.headers);
      if (op.key in PUBLIC_OPERATIONS) {
        expect({ op: op.key, status: response.status }).not.toEqual({ op: op.key, status: 401 });
      } else {
        expectUnauthenticated(op, response, 'none');
      }
    }
  });
});

describe('browsers', () => {
  it('lets only the allowed origin read answers cross-site (CORS allow-list, no wildcard), on every service', async () => {
    for (const op of protectedOperations) {
      const path = fillPath(op.path);
      const preflight = (origin: string) =>
        platform.call(op.service, 'OPTIONS', path, { headers: { origin, 'access-control-request-method': op.method, 'access-control-request-headers': 'authorization,content-type' } });
      const allowed = await preflight(ALLOWED_ORIGIN);
      expect({ op: op.key, origin: allowed.headers.get('access-control-allow-origin') }).toEqual({ op: op.key, origin: ALLOWED_ORIGIN });
      for (const origin of ['https://evil.example.org', 'null', `${ALLOWED_ORIGIN}.evil.example.org`, 'http://app.example.org']) {
        const refused = await preflight(origin);
        expect({ op: op.key, origin, allowed: refused.headers.get('access-control-allow-origin') }).toEqual({ op: op.key, origin, allowed: null });
        const simple = await platform.call(op.service, op.method, path, { headers: { origin, authorization: `Bearer ${veteran.token}` } });
        expect({ op: op.key, origin, allowed: simple.headers.get('access-control-allow-origin') }).toEqual({ op: op.key, origin, allowed: null });
      }
    }
  });
});

describe('forged access tokens', () => {
  it('accepts the control token, built like the forgeries but right, on every service', async () => {
    for (const op of protectedOperations) {
      const response = await call(op, { authorization: `Bearer ${forgery.control}` });
      expect([op.key, response.status]).not.toEqual([op.key, 401]);
      expect(response.status).toBeLessThan(500);
    }
  });

  it('refuses each forgery with 401 on every protected operation of every service', async () => {
    for (const { label, token } of forgery.forged) {
      for (const op of protectedOperations) expectUnauthenticated(op, await call(op, { authorization: `Bearer ${token}` }), label);
    }
  });

  it('refuses other authorization schemes and malformed bearer headers with 401', async () => {
    const headers = [
      `Basic ${Buffer.from(`${veteran.email}:${veteran.password}`).toString('base64')}`,
      `Bearer`,
      `Bearer ${veteran.token} ${veteran.token}`,
      `Bearer ${veteran.token}.extra`,
      `bearer\t${'A'.repeat(4000)}`,
      `Token ${veteran.token}`,
    ];
    for (const authorization of headers) {
      for (const op of protectedOperations) expectUnauthenticated(op, await call(op, { authorization }), authorization.slice(0, 20));
    }
  });

  it('refuses each forgery at the realtime WebSocket upgrade with 401 (header and ?token=)', async () => {
    const ws = `${platform.urls.realtime.replace(/^http/, 'ws')}/ws`;
    const accepted = await connectClient(ws, { headers: { authorization: `Bearer ${forgery.control}` } });
    await accepted.close();
    for (const { label, token } of forgery.forged) {
      for (const refusal of [
        await refusedUpgrade(ws, { headers: { authorization: `Bearer ${token}` } }),
        await refusedUpgrade(`${ws}?token=${encodeURIComponent(token)}`),
      ]) {
        expect({ label, status: refusal.status, code: refusal.body.code }).toEqual({ label, status: 401, code: 'UNAUTHENTICATED' });
      }
    }
  });
});
