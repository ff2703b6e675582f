import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsString, Length } from 'class-validator';
import { CLAIM_TITLE_MAX_LENGTH, CLAIM_TITLE_MIN_LENGTH, CLAIM_TYPES, type ClaimType } from '../claims.constants';

export class CreateClaimDto {
  @ApiProperty({
    description: 'What the claim is about, as the veteran would say it (surrounding spaces are trimmed)',
    minLength: CLAIM_TITLE_MIN_LENGTH,
    maxLength: CLAIM_TITLE_MAX_LENGTH,
    example: 'Knee injury from service',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(CLAIM_TITLE_MIN_LENGTH, CLAIM_TITLE_MAX_LENGTH)
  title!: string;

  @ApiProperty({ enum: CLAIM_TYPES, description: 'Kind of benefit claimed', example: 'disability_compensation' })
  @IsIn(CLAIM_TYPES)
  type!: ClaimType;
}
