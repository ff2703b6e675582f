import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PASSWORD_MAX_LENGTH } from '../utils/password-policy';

/** Organisation ids are DNS labels (the same rule as the operator's upsert command). */
export const ORGANISATION_ID_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const ORGANISATION_ID_MAX_LENGTH = 40;
export const EMAIL_MAX_LENGTH = 320;
export const DISPLAY_NAME_MAX_LENGTH = 200;
/** Refresh tokens are ~90 characters; anything much longer is not one of ours. */
export const REFRESH_TOKEN_MAX_LENGTH = 200;

/** Surrounding blanks in a pasted e-mail are not worth a 400; case is normalised by the service. */
const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

const organisationMessage = 'organisation must be an organisation id such as "demo" (lower-case letters, digits, hyphens)';

/** Role and tenant are never taken from the body: unknown fields (`role`, `tenantId`, …) are rejected by the pipe. */
export class RegisterDto {
  @ApiProperty({ example: 'demo', pattern: ORGANISATION_ID_PATTERN.source, maxLength: ORGANISATION_ID_MAX_LENGTH })
  @IsString()
  @MaxLength(ORGANISATION_ID_MAX_LENGTH)
  @Matches(ORGANISATION_ID_PATTERN, { message: organisationMessage })
  organisation!: string;

  @ApiProperty({ example: 'veteran@example.org', maxLength: EMAIL_MAX_LENGTH })
  @trim
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(EMAIL_MAX_LENGTH)
  email!: string;

  @ApiProperty({
    description: 'At least PASSWORD_MIN_LENGTH (8) characters with an upper-case letter, a number and a special character',
    example: 'Correct-Horse-9',
    maxLength: PASSWORD_MAX_LENGTH,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;

  @ApiPropertyOptional({ example: 'Alex Doe', maxLength: DISPLAY_NAME_MAX_LENGTH })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(DISPLAY_NAME_MAX_LENGTH)
  displayName?: string;
}

export class LoginDto {
  @ApiProperty({ example: 'demo', pattern: ORGANISATION_ID_PATTERN.source, maxLength: ORGANISATION_ID_MAX_LENGTH })
  @IsString()
  @MaxLength(ORGANISATION_ID_MAX_LENGTH)
  @Matches(ORGANISATION_ID_PATTERN, { message: organisationMessage })
  organisation!: string;

  @ApiProperty({ example: 'veteran@example.org', maxLength: EMAIL_MAX_LENGTH })
  @trim
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(EMAIL_MAX_LENGTH)
  email!: string;

  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token from login or the previous refresh', maxLength: REFRESH_TOKEN_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(REFRESH_TOKEN_MAX_LENGTH)
  refreshToken!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'EdDSA-signed JWT; send as "Authorization: Bearer <accessToken>"' })
  accessToken!: string;

  @ApiProperty({ description: 'Opaque; single use: every refresh returns a new one' })
  refreshToken!: string;

  @ApiProperty({ description: 'Access-token lifetime in seconds', example: 900 })
  expiresIn!: number;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';
}
