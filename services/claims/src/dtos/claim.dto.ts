import { ApiProperty } from '@nestjs/swagger';
import { CLAIM_STATUSES, CLAIM_TYPES, type ClaimStatus, type ClaimType } from '../claims.constants';

export class EvidenceDto {
  @ApiProperty({ format: 'uuid', description: 'Id of the document in the documents service' })
  documentId!: string;

  @ApiProperty({ example: 'service-record.pdf' })
  filename!: string;

  @ApiProperty({ example: 'application/pdf', description: 'Type recognised from the content by the documents service' })
  contentType!: string;

  @ApiProperty({ example: 48213 })
  sizeBytes!: number;

  @ApiProperty({ format: 'date-time' })
  addedAt!: string;
}

/** A claim as it appears in lists. */
export class ClaimSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid', description: 'The veteran who filed the claim' })
  ownerId!: string;

  @ApiProperty({ example: 'Knee injury from service' })
  title!: string;

  @ApiProperty({ enum: CLAIM_TYPES })
  type!: ClaimType;

  @ApiProperty({ enum: CLAIM_STATUSES })
  status!: ClaimStatus;

  @ApiProperty({ description: 'Number of evidence documents attached' })
  evidenceCount!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** One claim with its evidence. */
export class ClaimDto extends ClaimSummaryDto {
  @ApiProperty({ type: [EvidenceDto], description: 'Evidence documents, oldest first' })
  evidence!: EvidenceDto[];
}

export class ClaimPageDto {
  @ApiProperty({ type: [ClaimSummaryDto], description: 'Newest first' })
  items!: ClaimSummaryDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` to get the next page; null on the last page' })
  nextCursor!: string | null;
}
