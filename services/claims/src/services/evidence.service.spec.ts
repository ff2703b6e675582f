import { randomUUID } from 'node:crypto';
import { BusContext, type BusDelivery } from '@rallyforge/bus';
import type { EntityManager } from 'typeorm';
import type { ClaimRecord, ClaimsRepository } from '../repositories/claims.repository';
import { EvidenceService, type DocumentUploaded } from './evidence.service';

const owner = randomUUID();
const claim: ClaimRecord = {
  id: randomUUID(),
  tenantId: 'acme',
  ownerId: owner,
  title: 'Back injury',
  type: 'disability_compensation',
  status: 'submitted',
  evidenceCount: 0,
  createdAt: new Date(),
  updatedAt: new Date(),
};
const manager = { marker: 'tx' } as unknown as EntityManager;

/** A strict fake: any repository method a test did not set up fails the test when called. */
function repository(overrides: Partial<Record<keyof ClaimsRepository, jest.Mock>>): ClaimsRepository {
  return new Proxy(overrides, {
    get: (target, name: string) => target[name as keyof ClaimsRepository] ?? (() => { throw new Error(`unexpected call: ${name}`); }),
  }) as unknown as ClaimsRepository;
}

function context(tenantId: string, actorId = owner): BusContext {
  return new BusContext({
    envelope: { id: randomUUID(), type: 'document.uploaded', version: 1, tenantId, occurredAt: new Date().toISOString(), actor: { kind: 'user', id: actorId, roles: [] }, data: {} },
    manager,
  } as unknown as BusDelivery);
}

const document = (overrides: Partial<DocumentUploaded> = {}): DocumentUploaded => ({
  documentId: randomUUID(),
  claimId: claim.id,
  ownerId: owner,
  filename: 'dd214.pdf',
  contentType: 'application/pdf',
  sizeBytes: 10,
  sha256: 'f'.repeat(64),
  ...overrides,
});

describe('EvidenceService', () => {
  it("attaches evidence to the owner's claim in the handler's transaction and publishes the new count", async () => {
    const findForUpdate = jest.fn().mockResolvedValue(claim);
    const attachEvidence = jest.fn().mockResolvedValue(3);
    const publishEvidenceAdded = jest.fn().mockResolvedValue(undefined);
    const service = new EvidenceService(repository({ findForUpdate, attachEvidence, publishEvidenceAdded }));
    const uploaded = document();

    await expect(service.attachUploadedDocument(uploaded, context('acme'))).resolves.toBe('attached');
    expect(findForUpdate).toHaveBeenCalledWith(manager, 'acme', claim.id);
    expect(attachEvidence).toHaveBeenCalledWith(manager, expect.objectContaining({ tenantId: 'acme', claimId: claim.id, documentId: uploaded.documentId }));
    expect(publishEvidenceAdded).toHaveBeenCalledWith(
      manager,
      { claimId: claim.id, ownerId: owner, documentId: uploaded.documentId, filename: 'dd214.pdf', evidenceCount: 3 },
      { tenantId: 'acme', actor: { kind: 'user', id: owner, roles: [] } },
    );
  });

  it('publishes nothing for a document attached before', async () => {
    const service = new EvidenceService(
      repository({ findForUpdate: jest.fn().mockResolvedValue(claim), attachEvidence: jest.fn().mockResolvedValue(undefined) }),
    );
    await expect(service.attachUploadedDocument(document(), context('acme'))).resolves.toBe('duplicate');
  });

  it('refuses, without touching the database, a message whose actor is not the owner', async () => {
    const service = new EvidenceService(repository({}));
    await expect(service.attachUploadedDocument(document(), context('acme', randomUUID()))).resolves.toBe('refused');
  });

  it("refuses a claim that is not in the message's tenant or not the document owner's", async () => {
    const missing = new EvidenceService(repository({ findForUpdate: jest.fn().mockResolvedValue(undefined) }));
    await expect(missing.attachUploadedDocument(document(), context('globex'))).resolves.toBe('refused');

    const someoneElses = new EvidenceService(repository({ findForUpdate: jest.fn().mockResolvedValue({ ...claim, ownerId: randomUUID() }) }));
    await expect(someoneElses.attachUploadedDocument(document(), context('acme'))).resolves.toBe('refused');
  });
});
