import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';

/**
 * A document attached to a claim as evidence. The document itself (bytes, metadata) belongs to the documents
 * service; this is the claims service's copy of what it needs to show, taken from `document.uploaded`.
 * (claim_id, document_id) is unique: a redelivered event never attaches a document twice.
 */
@Entity({ name: 'claim_evidence' })
@Unique('claim_evidence_claim_document_key', ['claimId', 'documentId'])
export class ClaimEvidenceEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'claim_id', type: 'uuid' })
  claimId!: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'text' })
  filename!: string;

  @Column({ name: 'content_type', type: 'text' })
  contentType!: string;

  @Column({ name: 'size_bytes', type: 'bigint' })
  sizeBytes!: string;

  @Column({ type: 'text' })
  sha256!: string;

  @Column({ name: 'added_at', type: 'timestamptz', precision: 3 })
  addedAt!: Date;
}
