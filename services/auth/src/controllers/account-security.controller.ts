import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Req, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentUser, Public, type AuthUser } from '@rallyforge/service-kit';
import {
  DisableTwoFactorDto,
  LoginHistoryPageDto,
  LoginHistoryQueryDto,
  MfaLoginDto,
  RecoveryCodesDto,
  SessionListDto,
  TwoFactorCodeDto,
  TwoFactorEnrolmentDto,
  TwoFactorStatusDto,
} from '../dtos/account-security.dto';
import { TokenPairDto } from '../dtos/auth.dto';
import { RetryAfterInterceptor } from '../interceptors/retry-after.interceptor';
import { LoginHistoryService } from '../services/login-history.service';
import { SessionService } from '../services/session.service';
import { TwoFactorService } from '../services/two-factor.service';
import { ClientInfoResolver, type CallerRequest } from './client-info.resolver';

/** Two-factor authentication, sessions and login history of the signed-in user, and the second login step. */
@ApiTags('account security')
@Controller('auth')
@UseInterceptors(RetryAfterInterceptor)
export class AccountSecurityController {
  constructor(
    private readonly twoFactor: TwoFactorService,
    private readonly sessions: SessionService,
    private readonly loginHistory: LoginHistoryService,
    private readonly clients: ClientInfoResolver,
  ) {}

  @Public()
  @Post('login/mfa')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Second login step: the mfaToken from POST /login and a TOTP code or a recovery code' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'MFA_CHALLENGE_INVALID (unknown, expired or used) or INVALID_MFA_CODE' })
  @ApiForbiddenResponse({ description: 'ORGANISATION_SUSPENDED' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_LOGIN_ATTEMPTS (wrong codes count toward the lockout), with Retry-After' })
  completeLogin(@Body() dto: MfaLoginDto, @Req() request: CallerRequest): Promise<TokenPairDto> {
    return this.twoFactor.completeLogin(dto, this.clients.of(request));
  }

  @Get('me/2fa')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Whether two-factor authentication is on, and how many recovery codes are left' })
  @ApiOkResponse({ type: TwoFactorStatusDto })
  twoFactorStatus(@CurrentUser() user: AuthUser): Promise<TwoFactorStatusDto> {
    return this.twoFactor.status(user);
  }

  @Post('me/2fa/enrol')
  @HttpCode(HttpStatus.OK)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Start enrolling an authenticator app: a new secret, active only once confirmed' })
  @ApiOkResponse({ type: TwoFactorEnrolmentDto })
  @ApiConflictResponse({ description: 'TWO_FACTOR_ALREADY_ENABLED' })
  enrol(@CurrentUser() user: AuthUser): Promise<TwoFactorEnrolmentDto> {
    return this.twoFactor.enrol(user);
  }

  @Post('me/2fa/confirm')
  @HttpCode(HttpStatus.OK)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Confirm the enrolled authenticator with a current code: enables 2FA, returns 10 recovery codes once' })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiBadRequestResponse({ description: 'INVALID_TWO_FACTOR_CODE or VALIDATION_FAILED' })
  @ApiConflictResponse({ description: 'TWO_FACTOR_NOT_ENROLLED or TWO_FACTOR_ALREADY_ENABLED' })
  confirm(@CurrentUser() user: AuthUser, @Body() dto: TwoFactorCodeDto): Promise<RecoveryCodesDto> {
    return this.twoFactor.confirm(user, dto.code);
  }

  @Post('me/2fa/disable')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Turn 2FA off; needs the password and a current code (or a recovery code)' })
  @ApiNoContentResponse({ description: 'Disabled; the secret and the recovery codes are deleted' })
  @ApiForbiddenResponse({ description: 'REAUTHENTICATION_FAILED (counts toward the lockout)' })
  @ApiConflictResponse({ description: 'TWO_FACTOR_NOT_ENABLED' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_LOGIN_ATTEMPTS, with Retry-After' })
  disable(@CurrentUser() user: AuthUser, @Body() dto: DisableTwoFactorDto): Promise<void> {
    return this.twoFactor.disable(user, dto);
  }

  @Post('me/2fa/recovery-codes')
  @HttpCode(HttpStatus.OK)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Replace the recovery codes (the old ones stop working); needs a current authenticator code' })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiBadRequestResponse({ description: 'INVALID_TWO_FACTOR_CODE' })
  @ApiConflictResponse({ description: 'TWO_FACTOR_NOT_ENABLED' })
  regenerateRecoveryCodes(@CurrentUser() user: AuthUser, @Body() dto: TwoFactorCodeDto): Promise<RecoveryCodesDto> {
    return this.twoFactor.regenerateRecoveryCodes(user, dto.code);
  }

  @Get('me/sessions')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's active sessions (one per login), most recently used first; `current` marks this one" })
  @ApiOkResponse({ type: SessionListDto })
  listSessions(@CurrentUser() user: AuthUser, @Req() request: CallerRequest): Promise<SessionListDto> {
    return this.sessions.list(user, this.clients.sessionIdOf(request));
  }

  @Delete('me/sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiParam({ name: 'id', description: 'A session id from GET /me/sessions, or `current` for the session of this token' })
  @ApiOperation({ summary: 'Revoke one session: its refresh tokens stop working (access tokens expire within 15 minutes)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'SESSION_NOT_FOUND (not yours, not active, or not a session id)' })
  revokeSession(@CurrentUser() user: AuthUser, @Param('id') id: string, @Req() request: CallerRequest): Promise<void> {
    return this.sessions.revoke(user, id, this.clients.sessionIdOf(request));
  }

  @Delete('me/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Log out from all devices: every session of the caller, this one included' })
  @ApiNoContentResponse({ description: 'Every refresh token of the caller is revoked' })
  revokeAllSessions(@CurrentUser() user: AuthUser): Promise<void> {
    return this.sessions.revokeAll(user);
  }

  @Get('me/logins')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's login history, newest first (time, address, device, result)" })
  @ApiOkResponse({ type: LoginHistoryPageDto })
  @ApiBadRequestResponse({ description: 'INVALID_CURSOR or VALIDATION_FAILED' })
  loginHistoryPage(@CurrentUser() user: AuthUser, @Query() query: LoginHistoryQueryDto): Promise<LoginHistoryPageDto> {
    return this.loginHistory.list(user, query);
  }
}
