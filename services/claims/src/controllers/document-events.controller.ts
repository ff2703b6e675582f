import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload as MessagePayload } from '@nestjs/microservices';
import { Events } from '@rallyforge/contracts';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { RequirePermission } from '@rallyforge/service-kit';
import { EvidenceService, type DocumentUploaded, type EvidenceOutcome } from '../services/evidence.service';

/** Bus handlers for events of the documents service (payloads are validated against the contracts by the bus). */
@Controller()
// Keeps a handler's real error (not Nest's generic message) for the retry and parked headers.
@UseFilters(BusExceptionFilter)
export class DocumentEventsController {
  constructor(private readonly evidence: EvidenceService) {}

  @EventPattern(Events.documentUploaded.type)
  // The uploader is the actor: someone who may not upload (a platform admin) cannot attach evidence either.
  @RequirePermission('documents:upload')
  onDocumentUploaded(@MessagePayload() document: DocumentUploaded, @Ctx() ctx: BusContext): Promise<EvidenceOutcome> {
    return this.evidence.attachUploadedDocument(document, ctx);
  }
}
