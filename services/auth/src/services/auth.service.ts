import { Injectable, Logger } from '@nestjs/common';
import { Events } from '@rallyforge/contracts';
import { InjectConfig, validationFailed, type AuthUser } from '@rallyforge/service-kit';
import { randomUUID } from 'node:crypto';
import { AuthErrors } from '../auth.errors';
import type { AuthConfig } from '../config';
import type { LoginDto, RefreshTokenDto, RegisterDto, TokenPairDto } from '../dtos/auth.dto';
import type { MeResponseDto, SubscriptionDto, UserResponseDto } from '../dtos/user.dto';
import type { OrganisationEntity } from '../entities/organisation.entity';
import type { SubscriptionEntity } from '../entities/subscription.entity';
import { DEFAULT_USER_ROLE, type UserEntity } from '../entities/user.entity';
import { EventRepository } from '../repositories/event.repository';
import { LoginAttemptRepository } from '../repositories/login-attempt.repository';
import { OrganisationRepository } from '../repositories/organisation.repository';
import { RefreshTokenRepository } from '../repositories/refresh-token.repository';
import { SubscriptionRepository } from '../repositories/subscription.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserRepository } from '../repositories/user.repository';
import { PASSWORD_MAX_LENGTH, passwordPolicyViolations, type PasswordPolicy } from '../utils/password-policy';
import { parseRefreshToken } from '../utils/refresh-token';
import { UNKNOWN_CLIENT, type ClientInfo } from '../utils/client-info';
import type { MfaChallengeDto } from '../dtos/account-security.dto';
import { EmailVerificationService } from './email-verification.service';
import { LoginHistoryService } from './login-history.service';
import { LoginProtectionService } from './login-protection.service';
import { PasswordHasherService } from './password-hasher.service';
import { TwoFactorService } from './two-factor.service';
import { rolesOf, TokenService } from './token.service';

export const AuthMessages = {
  registered: 'Registered a user',
  loggedIn: 'Logged a user in',
  loginFailed: 'Refused a login',
  refreshReused: 'Revoked a refresh-token family after a spent token was presented again',
  loggedOut: 'Logged a user out',
} as const;

/** E-mails are compared lower-cased and trimmed (the database stores them that way). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** What a refresh transaction decided; errors are thrown after commit so that a family revocation sticks. */
type RefreshOutcome =
  | { kind: 'issued'; pair: TokenPairDto }
  | { kind: 'invalid' }
  | { kind: 'expired' }
  | { kind: 'reused'; familyId: string; userId: string };

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly passwordPolicy: PasswordPolicy;
  private readonly loginLockoutSeconds: number;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly organisations: OrganisationRepository,
    private readonly users: UserRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly subscriptions: SubscriptionRepository,
    private readonly events: EventRepository,
    private readonly loginAttempts: LoginAttemptRepository,
    private readonly hasher: PasswordHasherService,
    private readonly tokens: TokenService,
    private readonly loginProtection: LoginProtectionService,
    private readonly twoFactor: TwoFactorService,
    private readonly loginHistory: LoginHistoryService,
    private readonly emailVerification: EmailVerificationService,
    @InjectConfig() config: AuthConfig,
  ) {
    this.passwordPolicy = { minLength: config.PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH };
    this.loginLockoutSeconds = config.LOGIN_LOCKOUT_SECONDS;
  }

  /**
   * Self-service sign-up: only into an open, active organisation (invite-only ones answer 403 and say how to join),
   * always as a veteran. The verification e-mail is requested in the same transaction as the account.
   */
  async register(dto: RegisterDto): Promise<UserResponseDto> {
    const tenantId = dto.organisation;
    const organisation = await this.transactions.inTenant(tenantId, (m) => this.organisations.findById(m, tenantId));
    if (!organisation) throw AuthErrors.organisationNotFound();
    if (organisation.suspended) throw AuthErrors.organisationSuspended();
    if (organisation.registration !== 'open') throw AuthErrors.registrationClosed();
    // The event contract is stricter about e-mails than class-validator; refuse here rather than fail the outbox write.
    if (!Events.userRegistered.schema.shape.email.safeParse(normaliseEmail(dto.email)).success) {
      throw validationFailed('email must be an e-mail address');
    }
    const violations = passwordPolicyViolations(dto.password, this.passwordPolicy);
    if (violations.length > 0) throw AuthErrors.weakPassword(violations);

    // Hash outside the transaction: ~tens of ms of CPU should not hold a pooled connection.
    const passwordHash = await this.hasher.hash(dto.password);
    const user = await this.transactions.inTenant(tenantId, async (m) => {
      const created = await this.users.create(m, {
        tenantId,
        email: normaliseEmail(dto.email),
        displayName: dto.displayName?.trim() || null,
        passwordHash,
        role: DEFAULT_USER_ROLE,
      });
      if (!created) return undefined;
      await this.events.publish(
        m,
        Events.userRegistered,
        { userId: created.id, email: created.email, role: created.role },
        { tenantId, actor: { kind: 'user', id: created.id, roles: rolesOf(created) } },
      );
      // The verification e-mail commits with the account (outbox) or not at all.
      await this.emailVerification.issue(m, created);
      return created;
    });
    if (!user) throw AuthErrors.emailTaken();
    this.logger.log({ msg: AuthMessages.registered, tenantId, userId: user.id });
    return toUserResponse(user, organisation);
  }

  /**
   * Password login. Unknown organisation, unknown e-mail and wrong password all cost one argon2 verification and
   * end in the same 401 body. After LOGIN_MAX_FAILURES failures for one organisation + e-mail (existing or not, so
   * the lockout tells nothing either), further attempts are refused with 429 until the window ends; so are attempts
   * beyond the login rate limits per client IP and per account. For an account with two-factor authentication the
   * right password returns a challenge for POST /login/mfa instead of tokens. Every attempt on an existing account
   * lands in its login history.
   */
  async login(dto: LoginDto, client: ClientInfo = UNKNOWN_CLIENT): Promise<TokenPairDto | MfaChallengeDto> {
    const tenantId = dto.organisation;
    const email = normaliseEmail(dto.email);
    // Rate limits (per IP, per account) and the lockout: 429 with Retry-After, the same for unknown accounts.
    await this.loginProtection.admit(tenantId, email, client);
    const found = await this.transactions.inTenant(tenantId, async (m) => {
      const organisation = await this.organisations.findById(m, tenantId);
      const user = organisation ? await this.users.findByEmail(m, tenantId, email) : null;
      return { organisation, user };
    });
    const { organisation, user } = found;
    const valid = user ? await this.hasher.verify(user.passwordHash, dto.password) : await this.hasher.verifyDummy(dto.password);
    if (!organisation || !user || !valid) {
      this.logger.log({ msg: AuthMessages.loginFailed, tenantId });
      await this.loginAttempts.recordFailure(tenantId, email, this.loginLockoutSeconds);
      // Off the response path, so that existing and unknown accounts answer in the same time.
      if (user) this.loginHistory.recordLater({ tenantId, userId: user.id, result: 'wrong_password', client });
      throw AuthErrors.invalidCredentials();
    }
    if (organisation.suspended) {
      this.loginHistory.recordLater({ tenantId, userId: user.id, result: 'organisation_suspended', client });
      throw AuthErrors.organisationSuspended();
    }
    // With two-factor authentication the password only earns a challenge; failures are cleared after the code.
    const challenge = await this.twoFactor.challengeIfEnabled(user, client);
    if (challenge) return challenge;
    await this.loginAttempts.reset(tenantId, email);

    const rehash = this.hasher.needsRehash(user.passwordHash) ? await this.hasher.hash(dto.password) : undefined;
    const pair = await this.transactions.inTenant(tenantId, async (m) => {
      if (rehash) await this.users.updatePasswordHash(m, tenantId, user.id, rehash);
      const sessionId = randomUUID();
      const issued = await this.tokens.issuePair(m, user, sessionId, undefined, client);
      await this.loginHistory.record(m, { tenantId, userId: user.id, result: 'success', sessionId, client });
      return issued;
    });
    this.logger.log({ msg: AuthMessages.loggedIn, tenantId, userId: user.id });
    return pair;
  }

  /** Spends a refresh token and issues the next pair of its family; a spent token presented again revokes the family. */
  async refresh(dto: RefreshTokenDto, client: ClientInfo = UNKNOWN_CLIENT): Promise<TokenPairDto> {
    const parsed = parseRefreshToken(dto.refreshToken);
    if (!parsed) throw AuthErrors.invalidRefreshToken();
    const { tenantId, hash } = parsed;
    const now = new Date();

    const outcome = await this.transactions.inTenant(tenantId, async (m): Promise<RefreshOutcome> => {
      const token = await this.refreshTokens.findByHashForUpdate(m, tenantId, hash);
      if (!token) return { kind: 'invalid' };
      if (token.usedAt) {
        await this.refreshTokens.revokeFamily(m, tenantId, token.familyId, now);
        return { kind: 'reused', familyId: token.familyId, userId: token.userId };
      }
      if (token.revokedAt) return { kind: 'invalid' };
      if (token.expiresAt <= now) return { kind: 'expired' };

      const user = await this.users.findById(m, tenantId, token.userId);
      const organisation = await this.organisations.findById(m, tenantId);
      if (!user || !organisation || organisation.suspended) {
        await this.refreshTokens.revokeFamily(m, tenantId, token.familyId, now);
        return { kind: 'invalid' };
      }
      await this.refreshTokens.markUsed(m, tenantId, token.id, now);
      return { kind: 'issued', pair: await this.tokens.issuePair(m, user, token.familyId, now, client) };
    });

    switch (outcome.kind) {
      case 'issued':
        return outcome.pair;
      case 'reused':
        this.logger.warn({ msg: AuthMessages.refreshReused, tenantId, userId: outcome.userId, familyId: outcome.familyId });
        throw AuthErrors.refreshTokenReused();
      case 'expired':
        throw AuthErrors.refreshTokenExpired();
      case 'invalid':
        throw AuthErrors.invalidRefreshToken();
    }
  }

  /** Revokes the family of the presented token. Unknown or malformed tokens are ignored: logout always succeeds. */
  async logout(dto: RefreshTokenDto): Promise<void> {
    const parsed = parseRefreshToken(dto.refreshToken);
    if (!parsed) return;
    const { tenantId, hash } = parsed;
    const userId = await this.transactions.inTenant(tenantId, async (m) => {
      const token = await this.refreshTokens.findByHashForUpdate(m, tenantId, hash);
      if (!token) return undefined;
      await this.refreshTokens.revokeFamily(m, tenantId, token.familyId, new Date());
      return token.userId;
    });
    if (userId) this.logger.log({ msg: AuthMessages.loggedOut, tenantId, userId });
  }

  /** The caller's own account; the tenant and user come from the verified token only. */
  async me(caller: AuthUser): Promise<MeResponseDto> {
    const { tenantId, userId } = caller;
    const found = await this.transactions.inTenant(tenantId, async (m) => {
      const user = await this.users.findById(m, tenantId, userId);
      if (!user) return undefined;
      const organisation = await this.organisations.findById(m, tenantId);
      const subscription = await this.subscriptions.findByUser(m, tenantId, userId);
      return organisation ? { user, organisation, subscription } : undefined;
    });
    if (!found) throw AuthErrors.userNotFound();
    return {
      ...toUserResponse(found.user, found.organisation),
      subscription: toSubscription(found.subscription, new Date()),
    };
  }
}

export function toUserResponse(user: UserEntity, organisation: OrganisationEntity): UserResponseDto {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null && user.emailVerifiedAt !== undefined,
    displayName: user.displayName,
    role: user.role,
    roles: rolesOf(user),
    organisation: { id: organisation.id, displayName: organisation.displayName },
  };
}

/** Active while the paid period lasts; a lapsed subscription reads as none. */
function toSubscription(subscription: SubscriptionEntity | null, now: Date): SubscriptionDto {
  if (!subscription || subscription.currentPeriodEnd <= now) return { status: 'none' };
  return {
    status: 'active',
    planId: subscription.planId,
    currentPeriodEnd: subscription.currentPeriodEnd.toISOString(),
  };
}
