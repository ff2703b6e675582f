import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentUser, Public, type AuthUser } from '@rallyforge/service-kit';
import { LoginDto, RefreshTokenDto, RegisterDto, TokenPairDto } from '../dtos/auth.dto';
import { JwksDto, MeResponseDto, UserResponseDto } from '../dtos/user.dto';
import { AuthService } from '../services/auth.service';
import { SigningKeyService } from '../services/signing-key.service';

/** Verifiers cache the key set this long; new keys are published a day before they sign (SIGNING_KEY_PREPUBLISH_SECONDS). */
export const JWKS_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly signingKeys: SigningKeyService,
  ) {}

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create a veteran account in an organisation that is open for registration' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (bad or unknown fields) or WEAK_PASSWORD' })
  @ApiForbiddenResponse({ description: 'REGISTRATION_CLOSED or ORGANISATION_SUSPENDED' })
  @ApiNotFoundResponse({ description: 'ORGANISATION_NOT_FOUND' })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  register(@Body() dto: RegisterDto): Promise<UserResponseDto> {
    return this.auth.register(dto);
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Exchange organisation, e-mail and password for an access and a refresh token' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS (same body whatever was wrong)' })
  @ApiForbiddenResponse({ description: 'ORGANISATION_SUSPENDED' })
  @ApiTooManyRequestsResponse({ description: 'Rate limited' })
  login(@Body() dto: LoginDto): Promise<TokenPairDto> {
    return this.auth.login(dto);
  }

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Spend a refresh token for a new pair (single use; reuse revokes the whole login)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED or REFRESH_TOKEN_REUSED' })
  refresh(@Body() dto: RefreshTokenDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto);
  }

  @Public()
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke the refresh token and every token of the same login' })
  @ApiNoContentResponse({ description: 'Always, also for unknown tokens' })
  logout(@Body() dto: RefreshTokenDto): Promise<void> {
    return this.auth.logout(dto);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's account, organisation and subscription" })
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
