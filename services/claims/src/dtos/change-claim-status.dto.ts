import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { CLAIM_STATUSES, type ClaimStatus } from '../claims.constants';

export class ChangeClaimStatusDto {
  @ApiProperty({ enum: CLAIM_STATUSES, description: 'The new status (see the allowed transitions)', example: 'in_review' })
  @IsIn(CLAIM_STATUSES)
  status!: ClaimStatus;
}
