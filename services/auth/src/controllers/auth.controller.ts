import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post, Req, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentUser, Public, type AuthUser } from '@rallyforge/service-kit';
import { AcceptedMessageDto, PasswordResetDto, PasswordResetRequestDto, VerifyEmailDto } from '../dtos/account.dto';
import { LoginDto, RefreshTokenDto, RegisterDto, TokenPairDto } from '../dtos/auth.dto';
import { MfaChallengeDto } from '../dtos/account-security.dto';
import { ClientInfoResolver, type CallerRequest } from './client-info.resolver';
import { JwksDto, MeResponseDto, UserResponseDto } from '../dtos/user.dto';
import { RetryAfterInterceptor } from '../interceptors/retry-after.interceptor';
import { AuthService } from '../services/auth.service';
import { EmailVerificationService } from '../services/email-verification.service';
import { PasswordResetService } from '../services/password-reset.service';
import { SigningKeyService } from '../services/signing-key.service';

/** Verifiers cache the key set this long; new keys are published a day before they sign (SIGNING_KEY_PREPUBLISH_SECONDS). */
export const JWKS_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';

/** A new verification e-mail was requested; the answer does not wait for SMTP. */
export const VERIFICATION_RESENT = 'A new verification e-mail is on its way; its link works once, for one hour';

@ApiTags('auth')
@Controller('auth')
@UseInterceptors(RetryAfterInterceptor)
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly signingKeys: SigningKeyService,
    private readonly clients: ClientInfoResolver,
    private readonly emailVerification: EmailVerificationService,
    private readonly passwordReset: PasswordResetService,
  ) {}

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create a veteran account in an organisation that is open for registration' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (bad or unknown fields) or WEAK_PASSWORD' })
  @ApiForbiddenResponse({ description: 'REGISTRATION_CLOSED (invite-only: accept an invitation instead) or ORGANISATION_SUSPENDED' })
  @ApiNotFoundResponse({ description: 'ORGANISATION_NOT_FOUND' })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  register(@Body() dto: RegisterDto): Promise<UserResponseDto> {
    return this.auth.register(dto);
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Exchange organisation, e-mail and password for an access and a refresh token' })
  @ApiExtraModels(TokenPairDto, MfaChallengeDto)
  @ApiOkResponse({
    description: 'Tokens, or for an account with two-factor authentication a challenge for POST /login/mfa',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenPairDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
  })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (same body whatever was wrong)' })
  @ApiForbiddenResponse({ description: 'ORGANISATION_SUSPENDED' })
  @ApiTooManyRequestsResponse({
    description: 'LOGIN_RATE_LIMITED (per IP / per account) or TOO_MANY_LOGIN_ATTEMPTS (lockout), with Retry-After',
  })
  login(@Body() dto: LoginDto, @Req() request: CallerRequest): Promise<TokenPairDto | MfaChallengeDto> {
    return this.auth.login(dto, this.clients.of(request));
  }

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Spend a refresh token for a new pair (single use; reuse revokes the whole login)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED or REFRESH_TOKEN_REUSED' })
  refresh(@Body() dto: RefreshTokenDto, @Req() request: CallerRequest): Promise<TokenPairDto> {
    return this.auth.refresh(dto, this.clients.of(request));
  }

  @Public()
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke the refresh token and every token of the same login' })
  @ApiNoContentResponse({ description: 'Always, also for unknown tokens' })
  logout(@Body() dto: RefreshTokenDto): Promise<void> {
    return this.auth.logout(dto);
  }

  @Public()
  @Post('verify-email')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Spend the e-mailed verification token: the address counts as verified from now on' })
  @ApiNoContentResponse({ description: 'Verified' })
  @ApiBadRequestResponse({ description: 'INVALID_TOKEN, TOKEN_EXPIRED (1 hour) or TOKEN_ALREADY_USED' })
  verifyEmail(@Body() dto: VerifyEmailDto): Promise<void> {
    return this.emailVerification.verify(dto.token);
  }

  @Post('verify-email/resend')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'E-mail a new verification link to the signed-in user (older links stop working)' })
  @ApiAcceptedResponse({ type: AcceptedMessageDto })
  @ApiConflictResponse({ description: 'EMAIL_ALREADY_VERIFIED' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_MAIL_REQUESTS (MAIL_REQUEST_LIMIT per MAIL_REQUEST_WINDOW_SECONDS), with Retry-After' })
  async resendVerification(@CurrentUser() user: AuthUser): Promise<AcceptedMessageDto> {
    await this.emailVerification.resend(user);
    return { message: VERIFICATION_RESENT };
  }

  @Public()
  @Post('password-reset/request')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'E-mail a password reset link; the same answer whether or not the account exists' })
  @ApiAcceptedResponse({ type: AcceptedMessageDto })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_MAIL_REQUESTS for this organisation and address, with Retry-After' })
  requestPasswordReset(@Body() dto: PasswordResetRequestDto): Promise<AcceptedMessageDto> {
    return this.passwordReset.request(dto);
  }

  @Public()
  @Post('password-reset')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Set a new password with the e-mailed token; every session of the account is revoked' })
  @ApiNoContentResponse({ description: 'Password changed; log in again' })
  @ApiBadRequestResponse({ description: 'INVALID_TOKEN, TOKEN_EXPIRED, TOKEN_ALREADY_USED, WEAK_PASSWORD or VALIDATION_FAILED' })
  @ApiForbiddenResponse({ description: 'ORGANISATION_SUSPENDED' })
  resetPassword(@Body() dto: PasswordResetDto): Promise<void> {
    return this.passwordReset.reset(dto);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's account (with emailVerified), organisation and subscription" })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiUnauthorizedResponse({ description: 'Missing or invalid access token' })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND (the account was removed)' })
  me(@CurrentUser() user: AuthUser): Promise<MeResponseDto> {
    return this.auth.me(user);
  }

  @Public()
  @Get('.well-known/jwks.json')
  @Header('Cache-Control', JWKS_CACHE_CONTROL)
  @ApiOperation({ summary: 'Public keys that verify access tokens (active and recently retired)' })
  @ApiOkResponse({ type: JwksDto })
  jwks(): Promise<JwksDto> {
    return this.signingKeys.jwks();
  }
}
