import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { Events, Payload } from '@rallyforge/contracts';
import type { BusContext } from '@rallyforge/bus';
import { ClaimsMessages } from '../claims.messages';
import { ClaimsRepository } from '../repositories/claims.repository';

export type DocumentUploaded = Payload<typeof Events.documentUploaded>;

/** What happened to one `document.uploaded`. */
export type EvidenceOutcome = 'attached' | 'duplicate' | 'refused';

/**
 * Attaches uploaded documents to claims as evidence. The documents service does not own claims, so it accepts
 * any claim id and this is where ownership is enforced: the claim must belong to the message's tenant
 * (`ctx.tenantId`, from the validated envelope) and to the document's owner, and a user actor must be that owner.
 * Anything else is refused (logged and acknowledged: retrying cannot make it valid, and parking would let any
 * user fill the parked queue). Everything runs in the bus handler's inbox transaction (`ctx.manager`), so the
 * evidence row, the claim's count and `claim.evidence_added` commit together with "message handled".
 */
@Injectable()
export class EvidenceService {
  private readonly logger = new Logger(EvidenceService.name);

  constructor(private readonly claims: ClaimsRepository) {}

  async attachUploadedDocument(document: DocumentUploaded, ctx: BusContext): Promise<EvidenceOutcome> {
    const tenantId = ctx.tenantId;
    const actor = ctx.actor;
    if (actor?.kind === 'user' && actor.id !== document.ownerId) {
      return this.refuse(ctx, document, 'the actor is not the owner of the document');
    }
    const claim = await this.claims.findForUpdate(ctx.manager, tenantId, document.claimId);
    if (!claim) return this.refuse(ctx, document, 'the claim does not exist in this tenant');
    if (claim.ownerId !== document.ownerId) return this.refuse(ctx, document, 'the claim belongs to someone else');

    const evidenceCount = await this.claims.attachEvidence(ctx.manager, {
      id: randomUUID(),
      tenantId,
      claimId: claim.id,
      documentId: document.documentId,
      filename: document.filename,
      contentType: document.contentType,
      sizeBytes: document.sizeBytes,
      sha256: document.sha256,
    });
    if (evidenceCount === undefined) {
      this.logger.log({ messageId: ctx.messageId, claimId: claim.id, documentId: document.documentId }, ClaimsMessages.evidenceDuplicate);
      return 'duplicate';
    }
    await this.claims.publishEvidenceAdded(
      ctx.manager,
      {
        claimId: claim.id,
        ownerId: claim.ownerId,
        documentId: document.documentId,
        filename: document.filename,
        evidenceCount,
      },
      { tenantId, actor },
    );
    this.logger.log({ claimId: claim.id, documentId: document.documentId, evidenceCount }, ClaimsMessages.evidenceAttached);
    return 'attached';
  }

  private refuse(ctx: BusContext, document: DocumentUploaded, reason: string): EvidenceOutcome {
    // Ids only: no file names or other personal data in logs.
    this.logger.warn(
      { messageId: ctx.messageId, tenantId: ctx.tenantId, claimId: document.claimId, documentId: document.documentId },
      ClaimsMessages.evidenceRefused(reason),
    );
    return 'refused';
  }
}
