import type { ClaimDto, ClaimSummaryDto } from '../dtos/claim.dto';
import type { ClaimRecord, EvidenceRecord } from '../repositories/claims.repository';

export function toClaimSummaryDto(claim: ClaimRecord): ClaimSummaryDto {
  return {
    id: claim.id,
    ownerId: claim.ownerId,
    title: claim.title,
    type: claim.type,
    status: claim.status,
    evidenceCount: claim.evidenceCount,
    createdAt: claim.createdAt.toISOString(),
    updatedAt: claim.updatedAt.toISOString(),
  };
}

export function toClaimDto(claim: ClaimRecord, evidence: readonly EvidenceRecord[]): ClaimDto {
  return {
    ...toClaimSummaryDto(claim),
    evidence: evidence.map((e) => ({
      documentId: e.documentId,
      filename: e.filename,
      contentType: e.contentType,
      sizeBytes: e.sizeBytes,
      addedAt: e.addedAt.toISOString(),
    })),
  };
}
