import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { PASSWORD_MAX_LENGTH } from '../utils/password-policy';
import { TENANT_TOKEN_MAX_LENGTH } from '../utils/tenant-token';
import { EMAIL_MAX_LENGTH, ORGANISATION_ID_MAX_LENGTH, ORGANISATION_ID_PATTERN } from './auth.dto';

const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
const organisationMessage = 'organisation must be an organisation id such as "demo" (lower-case letters, digits, hyphens)';

/** An e-mailed token as the body carries it (pasted tokens may carry blanks around them). */
export class EmailedTokenDto {
  @ApiProperty({ description: 'The token from the e-mail (also the `token` query parameter of its link)', maxLength: TENANT_TOKEN_MAX_LENGTH })
  @trim
  @IsString()
  @IsNotEmpty()
  @MaxLength(TENANT_TOKEN_MAX_LENGTH)
  token!: string;
}

export class VerifyEmailDto extends EmailedTokenDto {}

export class PasswordResetRequestDto {
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
}

export class PasswordResetDto extends EmailedTokenDto {
  @ApiProperty({
    description: 'The new password: at least PASSWORD_MIN_LENGTH (8) characters with an upper-case letter, a number and a special character',
    example: 'Correct-Horse-9',
    maxLength: PASSWORD_MAX_LENGTH,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;
}

/** The body of 202 answers (the work continues in the background). */
export class AcceptedMessageDto {
  @ApiProperty()
  message!: string;
}
