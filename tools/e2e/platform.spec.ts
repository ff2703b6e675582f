import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';
import { STATE_DIR } from '../infra';
import { upsertOrganisation } from '../platform/seed';
import { IsolatedStack, startIsolatedStack } from '../platform/stack';

/**
 * The whole platform as `npm run up` runs it (same provisioning, build, migrations and process runner), on its
 * own databases, vhost and ports, driven through the nginx gateway like a user would:
 * register → login → create claim → upload evidence → claim shows the evidence (via the bus) → a WebSocket
 * client receives claim.evidence_added → checkout → /me shows the subscription active.
 */
const run = `e2e_${randomBytes(3).toString('hex')}`;
const GATEWAY_PORT = 18181;
const base = `http://127.0.0.1:${GATEWAY_PORT}`;
const organisation = `org-${randomBytes(3).toString('hex')}`;
let stack: IsolatedStack | undefined;

// The smallest well-formed PDF: the documents service sniffs the content, not the name.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

async function api<T = Record<string, unknown>>(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

beforeAll(async () => {
  stack = await startIsolatedStack({
    name: run,
    ports: { auth: 4101, claims: 4102, payments: 4103, documents: 4104, realtime: 4105 },
    dir: join(STATE_DIR, run),
    nodeEnv: 'test',
    gatewayPort: GATEWAY_PORT,
    // Every test file logs in from 127.0.0.1 against the one shared Redis: the seed's 5 logins per 15 minutes per
    // address would be used up by other suites (auth's own tests cover that limit).
    env: { auth: { LOGIN_RATE_LIMIT_MAX_PER_IP: '100000' } },
  });
  await upsertOrganisation(stack.env.auth.AMQP_URL, organisation, 'E2E Veterans Organisation');
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('RallyForge end to end through the gateway', () => {
  it('registers, files a claim with evidence, gets the live update, and subscribes', async () => {
    const email = `vet-${randomBytes(3).toString('hex')}@example.org`;
    const password = 'Correct-Horse-9-Battery!';

    const registered = await api('POST', '/api/v1/auth/register', undefined, { organisation, email, password });
    expect(registered.status).toBe(201);
    // The gateway adds the seed's security headers to every response.
    expect(registered.headers.get('strict-transport-security')).toContain('max-age=31536000');
    expect(registered.headers.get('x-content-type-options')).toBe('nosniff');

    const login = await api<{ accessToken: string; refreshToken: string }>('POST', '/api/v1/auth/login', undefined, { organisation, email, password });
    expect(login.status).toBe(200);
    const token = login.body.accessToken;
    expect(token.split('.')).toHaveLength(3);

    const created = await api<{ id: string; evidence: unknown[] }>('POST', '/api/v1/claims', token, { title: 'Knee injury from service', type: 'disability_compensation' });
    expect(created.status).toBe(201);
    const claimId = created.body.id;

    // Live updates: connect before the upload so the event can only come from the flow below.
    const ws = new WebSocket(`ws://127.0.0.1:${GATEWAY_PORT}/ws`, { headers: { authorization: `Bearer ${token}` } });
    const received: Array<{ type: string; data: Record<string, unknown> }> = [];
    ws.on('message', (raw) => received.push(JSON.parse(raw.toString())));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });

    const form = new FormData();
    form.append('claimId', claimId);
    form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'service-record.pdf');
    const upload = await fetch(`${base}/api/v1/documents`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(upload.status).toBe(201);
    const document = (await upload.json()) as { id: string };

    const withEvidence = await eventually('the claim to show the evidence', async () => {
      const claim = await api<{ evidence: Array<{ documentId: string }> }>('GET', `/api/v1/claims/${claimId}`, token);
      return claim.body.evidence?.length ? claim.body : undefined;
    });
    expect(withEvidence.evidence.map((e) => e.documentId)).toEqual([document.id]);

    const event = await eventually('claim.evidence_added on the WebSocket', async () =>
      received.find((m) => m.type === 'claim.evidence_added' && m.data.claimId === claimId));
    expect(event.data.documentId).toBe(document.id);
    ws.close();

    const plans = await api<{ items: Array<{ id: string }> }>('GET', '/api/v1/payments/plans', token);
    expect(plans.status).toBe(200);
    const checkout = await api('POST', '/api/v1/payments/checkout', token, { planId: plans.body.items[0].id });
    expect(checkout.status).toBe(201);

    const me = await eventually('the subscription to become active', async () => {
      const res = await api<{ subscription: { status: string } }>('GET', '/api/v1/auth/me', token);
      return res.body.subscription?.status === 'active' ? res.body : undefined;
    });
    expect(me.subscription.status).toBe('active');
  });

  it('refuses an API call without a token with the standard error body', async () => {
    const res = await api<{ statusCode: number; code: string; requestId: string }>('GET', '/api/v1/claims');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, code: expect.any(String), requestId: expect.any(String) });
  });

  it('answers an unknown route at the gateway with a JSON 404 that says where the API lives', async () => {
    const res = await api<{ code: string; message: string }>('GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body.message).toContain('/api/v1/');
  });
});
