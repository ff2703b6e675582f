import { createHash, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleDocx, sampleJpeg, samplePdf, samplePng } from '../test/fixtures';
import { BusObserver } from '@rallyforge/tools/test/bus-observer';
import { multipartBody, startDocumentsHarness, type DocumentsHarness } from '../test/documents-harness';
import type { TestUser } from '@rallyforge/tools/test/token-issuer';

const ACME = 'acme';
const GLOBEX = 'globex';
const alice: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['veteran'] };
const bob: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['veteran'] };
const rita: TestUser = { userId: randomUUID(), tenantId: ACME, roles: ['representative'] };
const gary: TestUser = { userId: randomUUID(), tenantId: GLOBEX, roles: ['veteran'] };
const gina: TestUser = { userId: randomUUID(), tenantId: GLOBEX, roles: ['org_admin'] };
const claimId = randomUUID();

interface DocumentBody {
  id: string;
  claimId: string;
  ownerId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
}

let h: DocumentsHarness;
let observer: BusObserver;

beforeAll(async () => {
  h = await startDocumentsHarness('documents');
  observer = await BusObserver.start(h.amqpUrl, ['document.*']);
}, 120_000);

afterAll(async () => {
  await observer?.close();
  await h?.close();
});

const auth = async (user: TestUser) => ({ authorization: `Bearer ${await h.issuer.token(user)}` });

async function upload(user: TestUser | undefined, fields: Parameters<typeof multipartBody>[0]) {
  const { payload, contentType } = await multipartBody(fields);
  const response = await h.app.inject({
    method: 'POST',
    url: '/api/v1/documents',
    headers: { 'content-type': contentType, ...(user ? await auth(user) : {}) },
    payload,
  });
  return { status: response.statusCode, body: response.json() as DocumentBody };
}

const uploadFile = (user: TestUser, content: Buffer, filename: string, clientType = 'application/pdf') =>
  upload(user, [
    ['claimId', claimId],
    ['file', content, filename, clientType],
  ]);

async function get(user: TestUser, url: string) {
  const response = await h.app.inject({ method: 'GET', url, headers: await auth(user) });
  return response;
}

function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ statusCode: status, code, message: expect.any(String), requestId: expect.any(String) });
}

/** Every stored object, across tenants (the temp directory of in-progress writes excluded). */
async function storedObjects(): Promise<string[]> {
  const objects: string[] = [];
  for (const entry of await readdir(h.storageDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const file of await readdir(join(h.storageDir, entry.name))) objects.push(`${entry.name}/${file}`);
  }
  return objects.filter((key) => !key.startsWith('.tmp/'));
}

async function documentCount(): Promise<number> {
  const [{ count }] = await h.db.query(`SELECT count(*)::int AS count FROM documents`);
  return count as number;
}

describe('POST /api/v1/documents', () => {
  it.each([
    ['PDF', samplePdf(), 'service-record.pdf', 'application/pdf'],
    ['PNG', samplePng(), 'scan.png', 'application/pdf'], // the client's type is ignored
    ['JPEG', sampleJpeg(), 'photo.jpg', 'image/png'],
    ['DOCX', sampleDocx(), 'statement.docx', 'application/octet-stream'],
  ])('accepts a %s, typed from its content, and emits document.uploaded', async (_label, content, filename, clientType) => {
    const res = await uploadFile(alice, content, filename, clientType);
    expect(res.status).toBe(201);
    const expectedType = { PDF: 'application/pdf', PNG: 'image/png', JPEG: 'image/jpeg', DOCX: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }[_label]!;
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      claimId,
      ownerId: alice.userId,
      filename,
      contentType: expectedType,
      sizeBytes: content.length,
      sha256,
      createdAt: expect.any(String),
    });

    const [row] = await h.db.query(`SELECT tenant_id, owner_id, storage_key FROM documents WHERE id = $1`, [res.body.id]);
    expect(row.tenant_id).toBe(ACME);
    expect(row.owner_id).toBe(alice.userId);
    expect(row.storage_key).toMatch(new RegExp(`^${ACME}/[0-9a-f-]{36}$`));
    expect(await storedObjects()).toContain(row.storage_key);

    const event = await observer.waitFor((e) => e.type === 'document.uploaded' && (e.data as { documentId: string }).documentId === res.body.id);
    expect(event).toMatchObject({
      tenantId: ACME,
      actor: { kind: 'user', id: alice.userId },
      data: { documentId: res.body.id, claimId, ownerId: alice.userId, filename, contentType: expectedType, sizeBytes: content.length, sha256 },
    });
  });

  it('refuses a text file named .pdf with 415 and keeps nothing', async () => {
    const before = { objects: await storedObjects(), rows: await documentCount() };
    const res = await uploadFile(alice, Buffer.from('I am definitely a PDF, trust me.\n'), 'evidence.pdf', 'application/pdf');
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await storedObjects()).toEqual(before.objects);
    expect(await documentCount()).toBe(before.rows);
  });

  it('refuses a ZIP that is not a Word document with 415', async () => {
    const { zipOf } = await import('../test/fixtures');
    expectError(await uploadFile(alice, zipOf({ 'notes.txt': 'hello' }), 'notes.docx'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an 11 MB file with 413 and keeps nothing', async () => {
    const before = { objects: await storedObjects(), rows: await documentCount() };
    const big = Buffer.concat([samplePdf(), Buffer.alloc(11 * 1024 * 1024)]);
    expectError(await uploadFile(alice, big, 'huge.pdf'), 413, 'PAYLOAD_TOO_LARGE');
    expect(await storedObjects()).toEqual(before.objects);
    expect(await documentCount()).toBe(before.rows);
    expect(await readdir(join(h.storageDir, '.tmp'))).toEqual([]);
  });

  it('sanitises the file name: no directories, no control characters', async () => {
    const res = await uploadFile(alice, samplePdf(), '../../etc/\u202Eevil\u0007.pdf');
    expect(res.status).toBe(201);
    expect(res.body.filename).toBe('evil.pdf');
  });

  it.each([
    ['no claimId', [['file', samplePdf(), 'a.pdf']]],
    ['a claimId that is not a UUID', [['claimId', 'claim-1'], ['file', samplePdf(), 'a.pdf']]],
    ['no file', [['claimId', claimId]]],
    ['an unknown field', [['claimId', claimId], ['tenantId', GLOBEX], ['file', samplePdf(), 'a.pdf']]],
    ['a file under another field name', [['claimId', claimId], ['attachment', samplePdf(), 'a.pdf']]],
  ] as Array<[string, Parameters<typeof multipartBody>[0]]>)('refuses a form with %s with 400 VALIDATION_FAILED', async (_label, fields) => {
    const before = await storedObjects();
    expectError(await upload(alice, fields), 400, 'VALIDATION_FAILED');
    expect(await storedObjects()).toEqual(before);
  });

  it('refuses a JSON body with 415 MULTIPART_REQUIRED and anonymous callers with 401', async () => {
    const json = await h.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { ...(await auth(alice)), 'content-type': 'application/json' },
      payload: { claimId, file: 'JVBERi0=' },
    });
    expectError({ status: json.statusCode, body: json.json() }, 415, 'MULTIPART_REQUIRED');
    expectError(await upload(undefined, [['claimId', claimId], ['file', samplePdf(), 'a.pdf']]), 401, 'UNAUTHENTICATED');
  });

  it('deletes the stored file when the metadata cannot be written', async () => {
    const before = await storedObjects();
    await h.db.query('ALTER TABLE documents RENAME TO documents_away');
    try {
      const res = await uploadFile(alice, samplePdf(), 'lost.pdf');
      expectError(res, 500, 'INTERNAL');
    } finally {
      await h.db.query('ALTER TABLE documents_away RENAME TO documents');
    }
    expect(await storedObjects()).toEqual(before);
  });
});

describe('GET /api/v1/documents/:id and /content', () => {
  let doc: DocumentBody;
  const content = samplePng();

  beforeAll(async () => {
    doc = (await uploadFile(alice, content, 'Relevé médical (1).png', 'image/png')).body;
  });

  it('returns the metadata to the owner and to staff of the organisation', async () => {
    for (const user of [alice, rita]) {
      const res = await get(user, `/api/v1/documents/${doc.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(doc);
    }
  });

  it('streams the exact bytes back as an attachment of the recognised type', async () => {
    const res = await get(alice, `/api/v1/documents/${doc.id}/content`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(content)).toBe(true);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-length']).toBe(String(content.length));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="Relev_ m_dical (1).png"; filename*=UTF-8''Relev%C3%A9%20m%C3%A9dical%20%281%29.png`,
    );
    expect((await get(rita, `/api/v1/documents/${doc.id}/content`)).statusCode).toBe(200);
  });

  it("answers 404 DOCUMENT_NOT_FOUND for another veteran's document and another tenant's", async () => {
    for (const user of [bob, gary, gina]) {
      for (const path of [`/api/v1/documents/${doc.id}`, `/api/v1/documents/${doc.id}/content`]) {
        const res = await get(user, path);
        expectError({ status: res.statusCode, body: res.json() }, 404, 'DOCUMENT_NOT_FOUND');
      }
    }
    const missing = await get(alice, `/api/v1/documents/${randomUUID()}`);
    expectError({ status: missing.statusCode, body: missing.json() }, 404, 'DOCUMENT_NOT_FOUND');
  });

  it('refuses an id that is not a UUID with 400', async () => {
    const res = await get(alice, '/api/v1/documents/not-a-uuid/content');
    expectError({ status: res.statusCode, body: res.json() }, 400, 'BAD_REQUEST');
  });
});

describe('over a real socket', () => {
  it('answers an oversized upload with a 413 body, not a reset connection', async () => {
    const { payload, contentType } = await multipartBody([
      ['claimId', claimId],
      ['file', Buffer.concat([samplePdf(), Buffer.alloc(11 * 1024 * 1024)]), 'huge.pdf', 'application/pdf'],
    ]);
    const res = await fetch(`${await h.app.getUrl()}/api/v1/documents`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(await auth(alice)) },
      body: payload,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers junk with 415 as soon as its first bytes arrive, and uploads a PDF', async () => {
    const junk = await multipartBody([
      ['claimId', claimId],
      ['file', Buffer.alloc(5 * 1024 * 1024, 0x41), 'junk.pdf', 'application/pdf'],
    ]);
    const url = `${await h.app.getUrl()}/api/v1/documents`;
    const refused = await fetch(url, { method: 'POST', headers: { 'content-type': junk.contentType, ...(await auth(alice)) }, body: junk.payload });
    expect(refused.status).toBe(415);
    await refused.arrayBuffer();

    const good = await multipartBody([['claimId', claimId], ['file', samplePdf(), 'ok.pdf', 'application/pdf']]);
    const accepted = await fetch(url, { method: 'POST', headers: { 'content-type': good.contentType, ...(await auth(alice)) }, body: good.payload });
    expect(accepted.status).toBe(201);
  });
});
