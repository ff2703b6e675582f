/**
 * GDPR and organisation deletion across the services, each on its own database and sharing one fresh vhost as in
 * production, booted in-process from source with auth issuing real tokens:
 * - export: POST /me/export → auth asks claims, payments and documents over the bus → one tar.gz, owner-only;
 * - deletion: DELETE /me → user.deletion.requested → each service erases (payments anonymise) → user.data.erased →
 *   auth deletes the account last and records the completion;
 * - organisation deletion: auth.organisation.deprovision `delete` → organisation.deleted → every service purges the
 *   tenant's rows and stored files;
 * - forged bus messages (a user actor, another tenant) change nothing.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Commands, Events, PLATFORM_TENANT } from '@rallyforge/contracts';
import { GOOD_PASSWORD, Http, type AuthEnvironment } from '@rallyforge/auth/test/auth-harness';
import { multipartBody } from '@rallyforge/documents/test/documents-harness';
import { samplePdf } from '@rallyforge/documents/test/fixtures';
import type { Client } from 'pg';
import { eventually, startInProcessPlatform, type InProcessPlatform, type Json } from '../test/in-process-platform';

const operator = { kind: 'service' as const, id: 'operator', roles: [] };

let platform: InProcessPlatform;
let env: AuthEnvironment;
let http: Http;
let claims: NestFastifyApplication;
let payments: NestFastifyApplication;
let documents: NestFastifyApplication;
let storageDir: string;
let sql: Record<'claims' | 'payments' | 'documents', Client>;

beforeAll(async () => {
  platform = await startInProcessPlatform('gdpr');
  ({ env, storageDir, sql } = platform);
  ({ claims, payments, documents } = platform.apps);
  http = new Http(platform.auth.url);
}, 180_000);

afterAll(() => platform?.close());

async function call(app: NestFastifyApplication, token: string, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Json) : undefined };
}

const organisation = (label: string): Promise<string> => platform.organisation(`gdpr-${label}`);

interface Veteran {
  org: string;
  email: string;
  id: string;
  token: string;
  claimId: string;
  documentId: string;
  /** Where the document's bytes are, under the storage directory. */
  storedFile: string;
  paymentId: string;
}

/** A registered veteran with a claim, an evidence document (attached over the bus) and a succeeded payment. */
async function veteranWithData(org: string, label: string): Promise<Veteran> {
  const email = `${label}-${randomUUID().slice(0, 6)}@example.org`;
  const registered = await http.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
  expect(registered.status).toBe(201);
  const login = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
  const token = login.body.accessToken as string;
  const claim = await call(claims, token, 'POST', '/api/v1/claims', { title: `Claim of ${label}`, type: 'pension' });
  expect(claim.status).toBe(201);
  const { payload, contentType } = await multipartBody([
    ['claimId', claim.body.id],
    ['file', samplePdf(), `${label} service record.pdf`, 'application/pdf'],
  ]);
  const upload = await documents.inject({
    method: 'POST',
    url: '/api/v1/documents',
    headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
    payload,
  });
  expect(upload.statusCode).toBe(201);
  const documentId = (upload.json() as { id: string }).id;
  const stored = await sql.documents.query('SELECT storage_key FROM documents WHERE id = $1', [documentId]);
  const storedFile = join(storageDir, stored.rows[0].storage_key as string);
  expect(existsSync(storedFile)).toBe(true);
  await eventually('the evidence on the claim', async () => {
    const res = await call(claims, token, 'GET', `/api/v1/claims/${claim.body.id}`);
    return res.body.evidence?.length === 1;
  });
  const plans = await call(payments, token, 'GET', '/api/v1/payments/plans');
  const checkout = await call(payments, token, 'POST', '/api/v1/payments/checkout', { planId: plans.body.items[0].id });
  expect(checkout.status).toBe(201);
  return { org, email, id: registered.body.id, token, claimId: claim.body.id, documentId, storedFile, paymentId: checkout.body.id };
}

const countRows = async (client: Client, text: string, values: unknown[]) => (await client.query(text, values)).rows[0].n as number;

describe('GDPR export', () => {
  it('assembles every service’s data about the user into one tar.gz that only the owner can read', async () => {
    const org = await organisation('export');
    const alice = await veteranWithData(org, 'alice');
    const bob = await veteranWithData(org, 'bob');

    const started = await http.request('POST', '/me/export', { token: alice.token });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ kind: 'export', status: 'pending', downloadUrl: null });
    const id = started.body.id as string;

    const ready = await eventually('the export to be ready', async () => {
      const res = await http.get(`/me/export/${id}`, alice.token);
      expect(res.body.status).not.toBe('failed');
      return res.body.status === 'ready' ? res.body : undefined;
    });
    expect(ready).toMatchObject({ downloadUrl: `/api/v1/auth/me/export/${id}/archive`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // Another veteran of the same organisation finds nothing, neither the status nor the archive.
    expect((await http.get(`/me/export/${id}`, bob.token)).status).toBe(404);
    const stolen = await http.get(`/me/export/${id}/archive`, bob.token);
    expect(stolen.status).toBe(404);
    expect(stolen.body).toMatchObject({ statusCode: 404, code: 'EXPORT_NOT_FOUND' });

    const download = await fetch(`${platform.urls.auth}/api/v1/auth/me/export/${id}/archive`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/gzip');
    const archive = Buffer.from(await download.arrayBuffer());
    expect(archive.length).toBe(ready.sizeBytes);

    const dir = await mkdtemp(join(tmpdir(), 'rf-gdpr-export-'));
    try {
      await writeFile(join(dir, 'export.tar.gz'), archive);
      execFileSync('tar', ['-xzf', join(dir, 'export.tar.gz'), '-C', dir]);
      const read = (path: string) => JSON.parse(readFileSync(join(dir, path), 'utf8')) as Json;
      const account = read('auth/account.json');
      expect(account).toEqual([expect.objectContaining({ id: alice.id, email: alice.email, password_hash: '[secret: not exported]' })]);
      expect(read('auth/refresh_tokens.json')[0]).toMatchObject({ user_id: alice.id, token_hash: '[secret: not exported]' });
      expect(read('claims/claims.json')).toEqual([expect.objectContaining({ id: alice.claimId, title: 'Claim of alice' })]);
      expect(read('claims/evidence.json')).toEqual([expect.objectContaining({ claimId: alice.claimId, documentId: alice.documentId })]);
      expect(read('payments/payments.json')).toEqual([expect.objectContaining({ id: alice.paymentId, status: 'succeeded' })]);
      const docs = read('documents/documents.json');
      expect(docs).toEqual([expect.objectContaining({ id: alice.documentId, filename: 'alice service record.pdf' })]);
      expect(readFileSync(join(dir, docs[0].archivePath)).equals(samplePdf())).toBe(true);
      // Nothing of Bob's is in Alice's archive.
      const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
      const mentioningBob = files.filter((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8').includes(bob.id));
      expect(mentioningBob).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 404 for an unknown export and 400 for an id that is not a UUID', async () => {
    const org = await organisation('export-404');
    const carol = await veteranWithData(org, 'carol');
    expect((await http.get(`/me/export/${randomUUID()}`, carol.token)).status).toBe(404);
    const bad = await http.get('/me/export/not-a-uuid', carol.token);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: expect.any(String), message: expect.any(String) });
  });
});

describe('GDPR deletion', () => {
  it('needs the password, then erases the user everywhere (payments anonymised) and deletes the account last', async () => {
    const org = await organisation('delete');
    const dana = await veteranWithData(org, 'dana');
    const erin = await veteranWithData(org, 'erin');

    const wrong = await http.request('DELETE', '/me', { token: dana.token, body: { password: 'Not-The-Password-1' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'PASSWORD_CONFIRMATION_FAILED' });
    const missing = await http.request('DELETE', '/me', { token: dana.token, body: {} });
    expect(missing.status).toBe(400);

    const accepted = await http.request('DELETE', '/me', { token: dana.token, body: { password: GOOD_PASSWORD } });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ kind: 'deletion', status: 'pending' });
    // Locked at once: no login while the erasure runs.
    expect((await http.post('/login', { organisation: org, email: dana.email, password: GOOD_PASSWORD })).status).toBe(401);

    const job = await eventually('the deletion to complete', async () => {
      const { rows } = await env.sql.query(`SELECT status, acks, error FROM gdpr_jobs WHERE id = $1`, [accepted.body.id]);
      return rows[0]?.status === 'completed' ? rows[0] : undefined;
    });
    expect(Object.keys(job.acks).sort()).toEqual(['auth', 'claims', 'documents', 'payments']);
    expect(job.acks.claims.erased).toEqual({ claims: 1, evidence: 1 });
    expect(job.acks.documents.erased).toEqual({ documents: 1, files: 1 });
    expect(job.acks.payments.anonymised).toEqual({ payments: 1 });
    expect(job.acks.auth.erased).toMatchObject({ users: 1 });

    expect(await countRows(env.sql, 'SELECT count(*)::int AS n FROM users WHERE id = $1', [dana.id])).toBe(0);
    expect(await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE owner_id = $1', [dana.id])).toBe(0);
    expect(await countRows(sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE owner_id = $1', [dana.id])).toBe(0);
    expect(existsSync(dana.storedFile)).toBe(false);
    // The payment is kept for the accounts, but nothing ties it to Dana any more.
    const { rows: kept } = await sql.payments.query('SELECT user_id, status, idempotency_key FROM payments WHERE id = $1', [dana.paymentId]);
    expect(kept).toEqual([{ user_id: expect.any(String), status: 'succeeded', idempotency_key: null }]);
    expect(kept[0].user_id).not.toBe(dana.id);

    // Erin, in the same organisation, keeps everything.
    expect(await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE owner_id = $1', [erin.id])).toBe(1);
    expect(await countRows(sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE owner_id = $1', [erin.id])).toBe(1);
    expect(await countRows(sql.payments, 'SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [erin.id])).toBe(1);
    expect((await http.post('/login', { organisation: org, email: erin.email, password: GOOD_PASSWORD })).status).toBe(200);
  });

  it('ignores a forged user.deletion.requested (a user actor, not auth)', async () => {
    const org = await organisation('forged');
    const frank = await veteranWithData(org, 'frank');
    const forged = await env.bus.publishEvent(
      Events.userDeletionRequested,
      { requestId: randomUUID(), userId: frank.id },
      { tenantId: org, actor: { kind: 'user', id: frank.id, roles: ['veteran'] } },
    );
    for (const client of [sql.claims, sql.payments, sql.documents]) {
      await eventually('the forged message to be handled', async () =>
        (await countRows(client, 'SELECT count(*)::int AS n FROM bus_inbox WHERE message_id = $1', [forged.id])) === 1);
    }
    expect(await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE owner_id = $1', [frank.id])).toBe(1);
    expect(await countRows(sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE owner_id = $1', [frank.id])).toBe(1);
    expect(await countRows(sql.payments, 'SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [frank.id])).toBe(1);
  });
});

describe('organisation deletion (auth.organisation.deprovision, mode delete)', () => {
  it('purges the organisation’s rows and stored files in every service and leaves other organisations alone', async () => {
    const doomed = await organisation('doomed');
    const survivor = await organisation('survivor');
    const gina = await veteranWithData(doomed, 'gina');
    const hank = await veteranWithData(survivor, 'hank');
    expect(readdirSync(join(storageDir, doomed))).toHaveLength(1);

    const reply = await env.bus.request<Json>(
      Commands.deprovisionOrganisation,
      { tenantId: doomed, mode: 'delete' },
      { tenantId: PLATFORM_TENANT, actor: operator, timeoutMs: 15_000 },
    );
    expect(reply).toMatchObject({ found: true, purgeRequested: true, deleted: { users: 1, organisations: 1 } });

    await eventually('every service to purge the organisation', async () => {
      const left =
        (await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE tenant_id = $1', [doomed])) +
        (await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claim_evidence WHERE tenant_id = $1', [doomed])) +
        (await countRows(sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE tenant_id = $1', [doomed])) +
        (await countRows(sql.payments, 'SELECT count(*)::int AS n FROM payments WHERE tenant_id = $1', [doomed]));
      return left === 0;
    });
    expect(existsSync(gina.storedFile)).toBe(false);

    expect(await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE tenant_id = $1', [survivor])).toBe(1);
    expect(await countRows(sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE tenant_id = $1', [survivor])).toBe(1);
    expect(await countRows(sql.payments, 'SELECT count(*)::int AS n FROM payments WHERE tenant_id = $1', [survivor])).toBe(1);
    expect(existsSync(hank.storedFile)).toBe(true);
  });

  it('refuses an organisation.deleted that does not come from auth or names another tenant', async () => {
    const org = await organisation('spoofed');
    await veteranWithData(org, 'ivan');
    const notAuth = await env.bus.publishEvent(Events.organisationDeleted, { tenantId: org }, { tenantId: org, actor: operator });
    const mismatch = await env.bus.publishEvent(Events.organisationDeleted, { tenantId: org }, { tenantId: 'elsewhere', actor: { kind: 'service', id: 'auth', roles: [] } });
    for (const client of [sql.claims, sql.payments, sql.documents]) {
      await eventually('both messages to be handled', async () =>
        (await countRows(client, 'SELECT count(*)::int AS n FROM bus_inbox WHERE message_id = ANY($1)', [[notAuth.id, mismatch.id]])) === 2);
    }
    expect(await countRows(sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE tenant_id = $1', [org])).toBe(1);
    expect(await countRows(sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE tenant_id = $1', [org])).toBe(1);
    expect(await countRows(sql.payments, 'SELECT count(*)::int AS n FROM payments WHERE tenant_id = $1', [org])).toBe(1);
  });
});
