import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { LOGIN_RESULTS, MFA_METHODS, type LoginResult, type MfaMethod } from '../entities/login-history.entity';
import { PASSWORD_MAX_LENGTH } from '../utils/password-policy';

/** `mfa1.<tenant>.<43 characters>`: anything much longer is not one of ours. */
export const MFA_TOKEN_MAX_LENGTH = 120;
/** A 6-digit TOTP code or a recovery code (xxxx-xxxx-xxxx-xxxx), with room for blanks. */
export const MFA_CODE_MAX_LENGTH = 32;
export const LOGIN_HISTORY_DEFAULT_LIMIT = 20;
export const LOGIN_HISTORY_MAX_LIMIT = 100;
export const CURSOR_MAX_LENGTH = 100;

const codeDescription = 'The current 6-digit code of the authenticator app, or one unused recovery code';

/** The second step of a two-factor login. */
export class MfaLoginDto {
  @ApiProperty({ description: 'The mfaToken returned by POST /login', maxLength: MFA_TOKEN_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MFA_TOKEN_MAX_LENGTH)
  mfaToken!: string;

  @ApiProperty({ description: codeDescription, example: '123456', maxLength: MFA_CODE_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MFA_CODE_MAX_LENGTH)
  code!: string;
}

/** What POST /login answers instead of tokens when the account has two-factor authentication. */
export class MfaChallengeDto {
  @ApiProperty({ enum: [true] })
  mfaRequired!: true;

  @ApiProperty({ description: 'Send it with a code to POST /login/mfa; single use' })
  mfaToken!: string;

  @ApiProperty({ description: 'Seconds the challenge stays valid', example: 300 })
  expiresIn!: number;

  @ApiProperty({ enum: MFA_METHODS, isArray: true })
  methods!: MfaMethod[];
}

export class TwoFactorCodeDto {
  @ApiProperty({ description: 'The current 6-digit code of the authenticator app', example: '123456', maxLength: MFA_CODE_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MFA_CODE_MAX_LENGTH)
  code!: string;
}

export class DisableTwoFactorDto {
  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;

  @ApiProperty({ description: codeDescription, maxLength: MFA_CODE_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MFA_CODE_MAX_LENGTH)
  code!: string;
}

export class TwoFactorStatusDto {
  @ApiProperty({ description: 'Logins ask for a code' })
  enabled!: boolean;

  @ApiProperty({ description: 'An authenticator was enrolled but not confirmed yet' })
  pending!: boolean;

  @ApiProperty({ description: 'Unused recovery codes left' })
  recoveryCodesRemaining!: number;
}

export class TwoFactorEnrolmentDto {
  @ApiProperty({ description: 'The TOTP secret in base32, for typing into an authenticator app', example: 'JBSWY3DPEHPK3PXP' })
  secret!: string;

  @ApiProperty({ description: 'otpauth://totp/… provisioning URI (show it as a QR code)' })
  otpauthUri!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    description: 'Single-use recovery codes, shown this once: store them somewhere safe',
    type: [String],
    example: ['7hq2-mx9c-4kfa-0vzr'],
  })
  recoveryCodes!: string[];
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last login or refresh' })
  lastUsedAt!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Client address at the last login or refresh' })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ description: 'Short label derived from the user agent', example: 'Firefox on Linux' })
  device!: string;

  @ApiProperty({ description: 'The session of the access token making this request' })
  current!: boolean;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto] })
  items!: SessionDto[];
}

export class LoginHistoryQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: LOGIN_HISTORY_MAX_LIMIT, default: LOGIN_HISTORY_DEFAULT_LIMIT, description: 'Page size' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LOGIN_HISTORY_MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page; omit for the first page', maxLength: CURSOR_MAX_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(CURSOR_MAX_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

export class LoginHistoryEntryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  occurredAt!: string;

  @ApiProperty({ enum: LOGIN_RESULTS })
  result!: LoginResult;

  @ApiProperty({ enum: MFA_METHODS, nullable: true, description: 'How the two-factor step was passed' })
  mfaMethod!: MfaMethod | null;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ example: 'Firefox on Linux' })
  device!: string;
}

export class LoginHistoryPageDto {
  @ApiProperty({ type: [LoginHistoryEntryDto] })
  items!: LoginHistoryEntryDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next (older) page; null on the last page' })
  nextCursor!: string | null;
}
