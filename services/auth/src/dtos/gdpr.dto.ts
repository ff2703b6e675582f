import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { PASSWORD_MAX_LENGTH } from '../utils/password-policy';

/** `DELETE /me`: the current password, so a stolen access token alone cannot erase an account. */
export class DeleteAccountDto {
  @ApiProperty({ description: 'The current password of the account', maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;
}

export class GdprJobDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['export', 'deletion'] })
  kind!: 'export' | 'deletion';

  @ApiProperty({
    enum: ['pending', 'ready', 'failed', 'expired', 'completed'],
    description: 'export: pending → ready (download until expiresAt) or failed; deletion: pending → completed',
  })
  status!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiPropertyOptional({ format: 'date-time', nullable: true })
  completedAt!: string | null;

  @ApiPropertyOptional({ format: 'date-time', nullable: true, description: 'When a ready archive is deleted' })
  expiresAt!: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Archive size in bytes (ready exports)' })
  sizeBytes!: number | null;

  @ApiPropertyOptional({ nullable: true, description: 'SHA-256 of the archive (ready exports)' })
  sha256!: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Where to download a ready archive' })
  downloadUrl!: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Why the job failed' })
  error!: string | null;
}
