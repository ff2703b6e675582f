/**
 * The evidence flow across both services, each on its own database, sharing one fresh vhost as in production:
 * upload to documents → document.uploaded (documents' outbox) → claims' consumer (inbox) → evidence on the claim
 * and claim.evidence_added (claims' outbox).
 */
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, loadConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { freshDatabase } from '@rallyforge/tools/test/infra';
// The one place claims code touches the documents service: this test boots both (a candidate for tools/e2e).
import { documentsConfigSchema } from '@rallyforge/documents/src/config';
import { startDocumentsService } from '@rallyforge/documents/src/documents.app';
import { DOCUMENTS_ENTITIES } from '@rallyforge/documents/src/entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from '@rallyforge/documents/src/migrations/documents-migrations';
import { multipartBody } from '@rallyforge/documents/test/documents-harness';
import { samplePdf } from '@rallyforge/documents/test/fixtures';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusObserver } from '../test/bus-observer';
import { startClaimsHarness, type ClaimsHarness } from '@rallyforge/claims/test/claims-harness';
import type { TestUser } from '../test/token-issuer';

const veteran: TestUser = { userId: randomUUID(), tenantId: 'acme', roles: ['veteran'] };
const otherVeteran: TestUser = { userId: randomUUID(), tenantId: 'acme', roles: ['veteran'] };

let claims: ClaimsHarness;
let documents: NestFastifyApplication;
let observer: BusObserver;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  claims = await startClaimsHarness('flow');
  observer = await BusObserver.start(claims.amqpUrl, ['claim.evidence_added', 'document.uploaded']);
  const database = await freshDatabase('flow_documents');
  cleanup.push(() => database.drop());
  const storageDir = await mkdtemp(join(tmpdir(), 'rf-flow-'));
  cleanup.push(() => rm(storageDir, { recursive: true, force: true }));
  const options = postgresDataSourceOptions({ url: database.ownerUrl, entities: DOCUMENTS_ENTITIES, migrations: DOCUMENTS_MIGRATIONS });
  await runMigrations(options, { logger: createLogger({ service: 'documents-test', level: 'silent' }) });
  documents = await startDocumentsService(
    loadConfig(documentsConfigSchema, {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      DATABASE_URL: database.appUrl,
      AMQP_URL: claims.amqpUrl,
      REDIS_URL: process.env.RF_TEST_REDIS_URL,
      AUTH_JWKS_URL: claims.issuer.jwksUrl,
      STORAGE_LOCAL_DIR: storageDir,
    }),
    { handleSignals: false },
  );
  cleanup.unshift(() => documents.close());
}, 120_000);

afterAll(async () => {
  await observer?.close();
  for (const step of cleanup) await step().catch(() => undefined);
  await claims?.close();
});

async function uploadEvidence(user: TestUser, claimId: string, filename: string): Promise<{ status: number; id: string }> {
  const { payload, contentType } = await multipartBody([
    ['claimId', claimId],
    ['file', samplePdf(), filename, 'application/pdf'],
  ]);
  const res = await documents.inject({
    method: 'POST',
    url: '/api/v1/documents',
    headers: { 'content-type': contentType, authorization: `Bearer ${await claims.issuer.token(user)}` },
    payload,
  });
  return { status: res.statusCode, id: (res.json() as { id: string }).id };
}

async function getClaim(user: TestUser, id: string) {
  const res = await claims.app.inject({
    method: 'GET',
    url: `/api/v1/claims/${id}`,
    headers: { authorization: `Bearer ${await claims.issuer.token(user)}` },
  });
  return res.json() as { evidence: Array<{ documentId: string; filename: string; contentType: string; sizeBytes: number }> };
}

it('attaches an uploaded document to the claim and publishes claim.evidence_added', async () => {
  const created = await claims.app.inject({
    method: 'POST',
    url: '/api/v1/claims',
    headers: { authorization: `Bearer ${await claims.issuer.token(veteran)}` },
    payload: { title: 'Knee injury from service', type: 'disability_compensation' },
  });
  const claimId = (created.json() as { id: string }).id;

  const upload = await uploadEvidence(veteran, claimId, 'service-record.pdf');
  expect(upload.status).toBe(201);

  const event = await observer.waitFor((e) => e.type === 'claim.evidence_added' && (e.data as { documentId: string }).documentId === upload.id);
  expect(event).toMatchObject({ tenantId: 'acme', data: { claimId, ownerId: veteran.userId, filename: 'service-record.pdf', evidenceCount: 1 } });
  expect((await getClaim(veteran, claimId)).evidence).toEqual([
    { documentId: upload.id, filename: 'service-record.pdf', contentType: 'application/pdf', sizeBytes: samplePdf().length, addedAt: expect.any(String) },
  ]);

  // Someone else's upload against this claim is stored for them but never becomes evidence here.
  const intruder = await uploadEvidence(otherVeteran, claimId, 'not-yours.pdf');
  expect(intruder.status).toBe(201);
  await observer.waitFor((e) => e.type === 'document.uploaded' && (e.data as { documentId: string }).documentId === intruder.id);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [{ count }] = await claims.db.query(`SELECT count(*)::int AS count FROM bus_inbox WHERE type = 'document.uploaded'`);
    if (count === 2 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await getClaim(veteran, claimId)).evidence.map((e) => e.documentId)).toEqual([upload.id]);
});
