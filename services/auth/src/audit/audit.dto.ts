import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_ACTION_PATTERN, AUDIT_RESULTS } from '@rallyforge/contracts';

export const AUDIT_LIST_DEFAULT_LIMIT = 50;
export const AUDIT_LIST_MAX_LIMIT = 200;
export const AUDIT_CURSOR_MAX_LENGTH = 128;

/** `GET /auth/audit` filters. Dates are ISO 8601; `to` is exclusive. */
export class ListAuditQueryDto {
  @ApiPropertyOptional({ description: 'Only entries of this actor (a user id or a service name)', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'actor must be a user id or a service name' })
  actor?: string;

  @ApiPropertyOptional({ description: 'Only entries of this action, e.g. claim.status_changed', maxLength: 80 })
  @IsOptional()
  @IsString()
  @MaxLength(80)
  @Matches(AUDIT_ACTION_PATTERN, { message: 'action must look like claim.status_changed' })
  action?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'from must be an ISO 8601 date-time' })
  from?: Date;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'to must be an ISO 8601 date-time' })
  to?: Date;

  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_LIST_MAX_LIMIT, default: AUDIT_LIST_DEFAULT_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_LIST_MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page', maxLength: AUDIT_CURSOR_MAX_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(AUDIT_CURSOR_MAX_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'service'] })
  kind!: 'user' | 'service';

  @ApiProperty({ description: 'User id or service name' })
  id!: string;
}

export class AuditTargetDto {
  @ApiProperty({ example: 'claim' })
  type!: string;

  @ApiProperty()
  id!: string;
}

export class AuditEventDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  occurredAt!: string;

  @ApiProperty({ example: 'claims', description: 'The service that recorded the entry' })
  source!: string;

  @ApiProperty({ type: AuditActorDto })
  actor!: AuditActorDto;

  @ApiProperty({ example: 'claim.status_changed' })
  action!: string;

  @ApiPropertyOptional({ type: AuditTargetDto })
  target?: AuditTargetDto;

  @ApiProperty({ enum: AUDIT_RESULTS })
  result!: string;

  @ApiPropertyOptional()
  ip?: string;

  @ApiPropertyOptional()
  userAgent?: string;

  @ApiPropertyOptional()
  requestId?: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  details!: Record<string, unknown>;
}

export class AuditPageDto {
  @ApiProperty({ type: AuditEventDto, isArray: true })
  items!: AuditEventDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}
