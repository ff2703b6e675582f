import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import type { UserRole } from '../entities/user.entity';
import { PASSWORD_MAX_LENGTH } from '../utils/password-policy';
import { DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH } from './auth.dto';
import { EmailedTokenDto } from './account.dto';

/** Roles an org_admin may give (platform_admin is never given by an organisation). */
export const INVITABLE_ROLES = ['veteran', 'representative', 'org_admin'] as const satisfies readonly UserRole[];
export type InvitableRole = (typeof INVITABLE_ROLES)[number];

const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** The organisation is the caller's (from the access token): an `organisation` or `tenantId` field is refused. */
export class CreateInvitationDto {
  @ApiProperty({ example: 'new.rep@example.org', maxLength: EMAIL_MAX_LENGTH })
  @trim
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(EMAIL_MAX_LENGTH)
  email!: string;

  @ApiProperty({ enum: INVITABLE_ROLES })
  @IsIn(INVITABLE_ROLES, { message: `role must be one of ${INVITABLE_ROLES.join(', ')}` })
  role!: InvitableRole;
}

export class AcceptInvitationDto extends EmailedTokenDto {
  @ApiProperty({
    description: 'At least PASSWORD_MIN_LENGTH (8) characters with an upper-case letter, a number and a special character',
    example: 'Correct-Horse-9',
    maxLength: PASSWORD_MAX_LENGTH,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;

  @ApiProperty({ example: 'Alex Doe', maxLength: DISPLAY_NAME_MAX_LENGTH })
  @trim
  @IsString()
  @IsNotEmpty({ message: 'displayName must not be empty' })
  @MaxLength(DISPLAY_NAME_MAX_LENGTH)
  displayName!: string;
}

export class InvitationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ enum: INVITABLE_ROLES })
  role!: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The org_admin who invited; null for the operator' })
  invitedBy!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;
}
