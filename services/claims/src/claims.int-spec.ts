import { randomUUID } from 'node:crypto';
import { BusClient, ParkedMessages } from '@rallyforge/bus';
import { Events, type Envelope } from '@rallyforge/contracts';
import { BusObserver } from '@rallyforge/tools/test/bus-observer';
import { startClaimsHarness, type ClaimsHarness } from '../test/claims-harness';
import type { TestUser } from '@rallyforge/tools/test/token-issuer';

const ACME = 'acme';
const GLOBEX = 'globex';
const alice: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['veteran'] };
const bob: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['veteran'] };
const rita: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['representative'] };
const olga: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['org_admin'] };
const gary: TestUser = { userId: randomUUID(), tenantId: GLOBEX, roles: ['veteran'] };
const gina: TestUser = { userId: randomUUID(), tenantId: GLOBEX, roles: ['org_admin'] };

interface ClaimBody {
  id: string;
  ownerId: string;
  title: string;
  type: string;
  status: string;
  evidenceCount: number;
  createdAt: string;
  updatedAt: string;
  evidence: Array<{ documentId: string; filename: string; contentType: string; sizeBytes: number; addedAt: string }>;
}
interface PageBody {
  items: ClaimBody[];
  nextCursor: string | null;
}
interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  requestId: string;
}

let h: ClaimsHarness;
let observer: BusObserver;

beforeAll(async () => {
  h = await startClaimsHarness('claims');
  observer = await BusObserver.start(h.amqpUrl, ['claim.*']);
}, 120_000);

afterAll(async () => {
  await observer?.close();
  await h?.close();
});

async function call<T>(user: TestUser | undefined, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
  const response = await h.app.inject({
    method,
    url,
    headers: user ? { authorization: `Bearer ${await h.issuer.token(user)}` } : {},
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
  return { status: response.statusCode, body: response.json() as T, headers: response.headers };
}

const createClaim = (user: TestUser, title: string, type = 'disability_compensation') =>
  call<ClaimBody>(user, 'POST', '/api/v1/claims', { title, type });

function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ statusCode: status, code, message: expect.any(String), requestId: expect.any(String) });
}

describe('PATCH /api/v1/claims/:id/status', () => {
  const move = (user: TestUser, id: string, body: unknown) => call<ClaimBody>(user, 'PATCH', `/api/v1/claims/${id}/status`, body);

  it('lets representatives and org admins move a claim along its lifecycle, each change in the audit log', async () => {
    const audit = await BusObserver.start(h.amqpUrl, ['audit.recorded']);
    try {
      const claim = (await createClaim(alice, 'Tinnitus since deployment')).body;
      expect(claim.status).toBe('submitted');
      const reviewed = await move(rita, claim.id, { status: 'in_review' });
      expect(reviewed.status).toBe(200);
      expect(reviewed.body).toMatchObject({ id: claim.id, status: 'in_review', ownerId: alice.userId });
      expect((await move(olga, claim.id, { status: 'decided' })).body.status).toBe('decided');
      // The veteran sees the change.
      expect((await call<ClaimBody>(alice, 'GET', `/api/v1/claims/${claim.id}`)).body.status).toBe('decided');
      const entry = await audit.waitFor((e) => {
        const data = e.data as { action: string; target?: { id: string }; details?: { to?: string } };
        return data.action === 'claim.status_changed' && data.target?.id === claim.id && data.details?.to === 'in_review';
      });
      expect(entry).toMatchObject({
        tenantId: ACME,
        data: { action: 'claim.status_changed', actor: { kind: 'user', id: rita.userId }, result: 'success', details: { from: 'submitted', to: 'in_review' } },
      });
    } finally {
      await audit.close();
    }
  });

  it('refuses a move the lifecycle does not allow with 409 CLAIM_STATUS_TRANSITION_INVALID, saying where it can go, and changes nothing', async () => {
    const claim = (await createClaim(alice, 'Back injury in training')).body;
    const backwards = await move(rita, claim.id, { status: 'submitted' });
    expectError(backwards, 409, 'CLAIM_STATUS_TRANSITION_INVALID');
    expect((backwards.body as unknown as { message: string }).message).toBe('A claim cannot go from submitted to submitted; from submitted it can go to in_review, closed');
    expect((await move(rita, claim.id, { status: 'closed' })).status).toBe(200);
    const final = await move(rita, claim.id, { status: 'in_review' });
    expectError(final, 409, 'CLAIM_STATUS_TRANSITION_INVALID');
    expect((final.body as unknown as { message: string }).message).toBe('A claim cannot go from closed to in_review: closed is final');
    expect((await call<ClaimBody>(alice, 'GET', `/api/v1/claims/${claim.id}`)).body.status).toBe('closed');
  });

  it('refuses veterans (403, even for their own claim), another organisation (404 like a missing claim) and bad bodies (400)', async () => {
    const claim = (await createClaim(alice, 'Shoulder injury')).body;
    expectError(await move(alice, claim.id, { status: 'in_review' }), 403, 'FORBIDDEN');
    expectError(await move(gina, claim.id, { status: 'in_review' }), 404, 'CLAIM_NOT_FOUND');
    expectError(await move(rita, randomUUID(), { status: 'in_review' }), 404, 'CLAIM_NOT_FOUND');
    expectError(await move(rita, claim.id, { status: 'approved' }), 400, 'VALIDATION_FAILED');
    expectError(await move(rita, claim.id, { status: 'in_review', ownerId: bob.userId }), 400, 'VALIDATION_FAILED');
    expect((await call<ClaimBody>(alice, 'GET', `/api/v1/claims/${claim.id}`)).body.status).toBe('submitted');
  });
});

describe('POST /api/v1/claims', () => {
  it('files a claim for the caller, in the tenant of the token, and emits claim.created', async () => {
    const res = await createClaim(alice, '  Knee injury from service  ');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ownerId: alice.userId,
      title: 'Knee injury from service',
      type: 'disability_compensation',
      status: 'submitted',
      evidenceCount: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      evidence: [],
    });
    const [row] = await h.db.query(`SELECT tenant_id, owner_id FROM claims WHERE id = $1`, [res.body.id]);
    expect(row).toEqual({ tenant_id: ACME, owner_id: alice.userId });

    const event = await observer.waitFor((e) => e.type === 'claim.created' && (e.data as { claimId: string }).claimId === res.body.id);
    expect(event).toMatchObject({
      tenantId: ACME,
      version: 1,
      actor: { kind: 'user', id: alice.userId },
      data: { claimId: res.body.id, ownerId: alice.userId, title: 'Knee injury from service', type: 'disability_compensation', status: 'submitted' },
    });
  });

  it.each([
    ['a title that is too short', { title: 'ab', type: 'pension' }],
    ['a title that is too long', { title: 'x'.repeat(201), type: 'pension' }],
    ['a title of spaces', { title: '      ', type: 'pension' }],
    ['an unknown type', { title: 'Hearing loss', type: 'lottery' }],
    ['a missing type', { title: 'Hearing loss' }],
    ['a non-string title', { title: 12345, type: 'pension' }],
    ['an unknown field', { title: 'Hearing loss', type: 'pension', status: 'decided' }],
    ['a tenant in the body', { title: 'Hearing loss', type: 'pension', tenantId: GLOBEX }],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_label, payload) => {
    expectError(await call(alice, 'POST', '/api/v1/claims', payload), 400, 'VALIDATION_FAILED');
  });

  it('refuses callers who are not veterans (403) and anonymous callers (401)', async () => {
    expectError(await createClaim(rita, 'Filed by a representative'), 403, 'FORBIDDEN');
    expectError(await call(undefined, 'POST', '/api/v1/claims', { title: 'Anonymous', type: 'other' }), 401, 'UNAUTHENTICATED');
  });

  it('refuses a token signed by another key', async () => {
    const { generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await h.issuer.token(alice, { privateKey });
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/claims', headers: { authorization: `Bearer ${forged}` } });
    expect(res.statusCode).toBe(401);
  });
});

describe('GET /api/v1/claims', () => {
  const bobClaims: string[] = [];

  beforeAll(async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await createClaim(bob, `Bob claim ${i}`, 'pension');
      bobClaims.unshift(res.body.id); // newest first
    }
    await createClaim(gary, 'Globex claim');
  });

  it("lists only the veteran's own claims, newest first", async () => {
    const res = await call<PageBody>(bob, 'GET', '/api/v1/claims');
    expect(res.status).toBe(200);
    expect(res.body.items.map((c) => c.id)).toEqual(bobClaims);
    expect(res.body.items.every((c) => c.ownerId === bob.userId)).toBe(true);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items[0]).not.toHaveProperty('evidence');
  });

  it('pages with limit and cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res: { status: number; body: PageBody } = await call<PageBody>(bob, 'GET', `/api/v1/claims${query}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(bobClaims);
  });

  it("gives representatives and org admins their organisation's claims, never another's", async () => {
    for (const staff of [rita, olga]) {
      const res = await call<PageBody>(staff, 'GET', '/api/v1/claims?limit=100');
      expect(res.status).toBe(200);
      const owners = new Set(res.body.items.map((c) => c.ownerId));
      expect(owners).toEqual(new Set([alice.userId, bob.userId]));
    }
    const globex = await call<PageBody>(gina, 'GET', '/api/v1/claims');
    expect(globex.body.items.map((c) => c.title)).toEqual(['Globex claim']);
  });

  it.each([
    ['limit=0', 'VALIDATION_FAILED'],
    ['limit=101', 'VALIDATION_FAILED'],
    ['limit=ten', 'VALIDATION_FAILED'],
    ['offset=3', 'VALIDATION_FAILED'],
    ['cursor=not!a!cursor', 'VALIDATION_FAILED'],
    [`cursor=${Buffer.from('123:not-a-uuid').toString('base64url')}`, 'INVALID_CURSOR'],
  ])('refuses ?%s with 400 %s', async (query, code) => {
    expectError(await call(bob, 'GET', `/api/v1/claims?${query}`), 400, code);
  });
});

describe('GET /api/v1/claims/:id', () => {
  let aliceClaim: ClaimBody;

  beforeAll(async () => {
    aliceClaim = (await createClaim(alice, 'Tinnitus', 'disability_compensation')).body;
  });

  it('returns the claim with its evidence to its owner and to staff of the organisation', async () => {
    for (const user of [alice, rita, olga]) {
      const res = await call<ClaimBody>(user, 'GET', `/api/v1/claims/${aliceClaim.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(aliceClaim);
    }
  });

  it("answers 404 CLAIM_NOT_FOUND for another veteran's claim and for another tenant's", async () => {
    for (const user of [bob, gary, gina]) {
      expectError(await call(user, 'GET', `/api/v1/claims/${aliceClaim.id}`), 404, 'CLAIM_NOT_FOUND');
    }
    expectError(await call(alice, 'GET', `/api/v1/claims/${randomUUID()}`), 404, 'CLAIM_NOT_FOUND');
  });

  it('refuses an id that is not a UUID with 400', async () => {
    const res = await call<ErrorBody>(alice, 'GET', '/api/v1/claims/12345');
    expectError(res, 400, 'BAD_REQUEST');
  });
});

describe('document.uploaded → evidence', () => {
  let documents: BusClient;
  let claim: ClaimBody;

  beforeAll(async () => {
    documents = new BusClient({ url: h.amqpUrl, service: 'documents' });
    claim = (await createClaim(alice, 'Back injury', 'disability_compensation')).body;
  });
  afterAll(() => documents?.close());

  const uploaded = (overrides: Partial<{ documentId: string; claimId: string; ownerId: string; filename: string }> = {}) => ({
    documentId: randomUUID(),
    claimId: claim.id,
    ownerId: alice.userId,
    filename: 'service-record.pdf',
    contentType: 'application/pdf',
    sizeBytes: 1234,
    sha256: 'a'.repeat(64),
    ...overrides,
  });
  const asAlice = { kind: 'user' as const, id: alice.userId, roles: ['veteran'] };

  async function handled(messageId: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const rows: unknown[] = await h.db.query(`SELECT 1 FROM bus_inbox WHERE message_id = $1`, [messageId]);
      if (rows.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`message ${messageId} was not handled`);
  }

  const evidenceRows = async (claimId: string) =>
    (await h.db.query(`SELECT document_id, tenant_id FROM claim_evidence WHERE claim_id = $1`, [claimId])) as Array<{ document_id: string; tenant_id: string }>;

  it('attaches the document to the claim and emits claim.evidence_added', async () => {
    const data = uploaded();
    await documents.publishEvent(Events.documentUploaded, data, { tenantId: ACME, actor: asAlice });

    const event = await observer.waitFor(
      (e) => e.type === 'claim.evidence_added' && (e.data as { documentId: string }).documentId === data.documentId,
    );
    expect(event).toMatchObject({
      tenantId: ACME,
      data: { claimId: claim.id, ownerId: alice.userId, documentId: data.documentId, filename: 'service-record.pdf', evidenceCount: 1 },
    });
    const res = await call<ClaimBody>(alice, 'GET', `/api/v1/claims/${claim.id}`);
    expect(res.body.evidenceCount).toBe(1);
    expect(res.body.evidence).toEqual([
      { documentId: data.documentId, filename: 'service-record.pdf', contentType: 'application/pdf', sizeBytes: 1234, addedAt: expect.any(String) },
    ]);
    expect(await evidenceRows(claim.id)).toEqual([{ document_id: data.documentId, tenant_id: ACME }]);
  });

  it('attaches a redelivered or republished document once', async () => {
    const data = uploaded({ filename: 'dd214.pdf' });
    const messageId = randomUUID();
    // The same message twice (broker redelivery) and the same document in a new message (producer retry).
    await documents.publishEvent(Events.documentUploaded, data, { tenantId: ACME, actor: asAlice, messageId });
    await documents.publishEvent(Events.documentUploaded, data, { tenantId: ACME, actor: asAlice, messageId });
    const republished = await documents.publishEvent(Events.documentUploaded, data, { tenantId: ACME, actor: asAlice });
    await handled(messageId);
    await handled(republished.id);

    const rows = await evidenceRows(claim.id);
    expect(rows.filter((r) => r.document_id === data.documentId)).toHaveLength(1);
    await observer.waitFor((e) => e.type === 'claim.evidence_added' && (e.data as { documentId: string }).documentId === data.documentId);
    await new Promise((r) => setTimeout(r, 500)); // room for a wrong second event to arrive
    const events = observer.of('claim.evidence_added').filter((e) => (e.data as { documentId: string }).documentId === data.documentId);
    expect(events).toHaveLength(1);
    expect((events[0] as Envelope<{ evidenceCount: number }>).data.evidenceCount).toBe(2);
  });

  // Veterans, who may upload: what refuses these is the claim's tenant and owner, not the permission.
  it.each([
    ['from another tenant', () => ({ data: uploaded(), tenantId: GLOBEX, actor: { kind: 'user' as const, id: alice.userId, roles: ['veteran'] } })],
    ["for another veteran's claim", () => ({ data: uploaded({ ownerId: bob.userId }), tenantId: ACME, actor: { kind: 'user' as const, id: bob.userId, roles: ['veteran'] } })],
    ['sent by someone other than the owner', () => ({ data: uploaded(), tenantId: ACME, actor: { kind: 'user' as const, id: bob.userId, roles: ['veteran'] } })],
    ['for a claim that does not exist', () => ({ data: uploaded({ claimId: randomUUID() }), tenantId: ACME, actor: asAlice })],
  ])('refuses a document %s', async (_label, make) => {
    const { data, tenantId, actor } = make();
    const before = (await evidenceRows(claim.id)).length;
    const sent = await documents.publishEvent(Events.documentUploaded, data, { tenantId, actor });
    await handled(sent.id);
    expect(await evidenceRows(claim.id)).toHaveLength(before);
    const [{ count }] = await h.db.query(`SELECT count(*)::int AS count FROM claim_evidence WHERE document_id = $1`, [data.documentId]);
    expect(count).toBe(0);
  });

  it('parks, unhandled, a document.uploaded whose actor may not upload (no role, or a platform admin)', async () => {
    const parkedMessages = await ParkedMessages.connect(h.amqpUrl);
    try {
      for (const roles of [[], ['platform_admin']]) {
        const data = uploaded();
        const sent = await documents.publishEvent(Events.documentUploaded, data, { tenantId: ACME, actor: { kind: 'user', id: alice.userId, roles } });
        const parked = await eventuallyParked(parkedMessages, sent.id);
        expect(parked).toMatchObject({ reason: 'rejected', attempts: 1, error: expect.stringContaining('documents:upload') });
        const [{ count }] = await h.db.query(`SELECT count(*)::int AS count FROM claim_evidence WHERE document_id = $1`, [data.documentId]);
        expect(count).toBe(0);
        expect(await h.db.query(`SELECT 1 FROM bus_inbox WHERE message_id = $1`, [sent.id])).toHaveLength(0);
      }
    } finally {
      await parkedMessages.close();
    }
  });
});

describe('operations', () => {
  it('is ready with its database and bus connection, and publishes its OpenAPI document', async () => {
    const ready = await h.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.body).toContain('bus');

    const docs = await h.app.inject({ method: 'GET', url: '/api/v1/claims/docs-json' });
    expect(docs.statusCode).toBe(200);
    const spec = docs.json() as { paths: Record<string, unknown>; components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> } };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/claims', '/api/v1/claims/{id}']));
    expect(spec.components.schemas.CreateClaimDto?.properties?.type?.enum).toEqual(['disability_compensation', 'pension', 'education', 'health_care', 'other']);
  });
});

async function eventuallyParked(parked: ParkedMessages, messageId: string) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const found = (await parked.list('claims')).find((m) => m.messageId === messageId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`message ${messageId} was not parked`);
}
