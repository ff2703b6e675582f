import { Injectable, Logger } from '@nestjs/common';
import { Events, type Payload } from '@rallyforge/contracts';
import { forbidden, InjectConfig, validationFailed } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { AuthErrors } from '../auth.errors';
import type { AuthConfig } from '../config';
import type { UserEntity } from '../entities/user.entity';
import type { PasswordResetDto, PasswordResetRequestDto } from '../dtos/account.dto';
import { EventRepository } from '../repositories/event.repository';
import { LoginAttemptRepository } from '../repositories/login-attempt.repository';
import { MailThrottleRepository } from '../repositories/mail-throttle.repository';
import { OrganisationRepository } from '../repositories/organisation.repository';
import { RefreshTokenRepository } from '../repositories/refresh-token.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserTokenRepository } from '../repositories/user-token.repository';
import { UserRepository } from '../repositories/user.repository';
import { PASSWORD_MAX_LENGTH, passwordPolicyViolations, type PasswordPolicy } from '../utils/password-policy';
import { createTenantToken, parseTenantToken, TenantTokenKind } from '../utils/tenant-token';
import { normaliseEmail } from './auth.service';
import { checkToken, throwUnlessValid, type TokenCheck } from './email-verification.service';
import { MailRequestService } from './mail-request.service';
import { AUTH_SERVICE_ACTOR } from './organisation-lifecycle.service';
import type { BusCaller } from './organisation.service';
import { PasswordHasherService } from './password-hasher.service';

/** What the reset transaction decided; errors are thrown after it ended. */
interface ResetOutcome {
  check: TokenCheck;
  suspended?: boolean;
  user?: UserEntity;
  revoked?: number;
}

export type PasswordResetRequestedEvent = Payload<typeof Events.passwordResetRequested>;

export const PasswordResetMessages = {
  requested: 'Accepted a password reset request',
  issued: 'Issued a password reset token',
  completed: 'Reset a password and revoked every session of the user',
  forbiddenActor: 'Only auth itself may publish auth.password_reset.requested',
  /** The body of every answer to a reset request, whether or not the account exists. */
  accepted: 'If this organisation has an account with this e-mail address, a password reset e-mail is on its way',
} as const;

/**
 * Password reset. The request only writes `auth.password_reset.requested` to the outbox (the same work whether or
 * not the account exists, so neither the answer nor its timing tells), and auth's consumer looks the account up and,
 * if there is one, e-mails a single-use token valid EMAIL_TOKEN_TTL_SECONDS. Completing the reset sets the new
 * password (policy enforced), spends the token and revokes every refresh-token family of the user.
 */
@Injectable()
export class PasswordResetService {
  private readonly logger = new Logger(PasswordResetService.name);
  private readonly ttlMs: number;
  private readonly requestLimit: number;
  private readonly requestWindowSeconds: number;
  private readonly passwordPolicy: PasswordPolicy;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly organisations: OrganisationRepository,
    private readonly users: UserRepository,
    private readonly tokens: UserTokenRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly events: EventRepository,
    private readonly throttle: MailThrottleRepository,
    private readonly loginAttempts: LoginAttemptRepository,
    private readonly hasher: PasswordHasherService,
    private readonly mail: MailRequestService,
    @InjectConfig() config: AuthConfig,
  ) {
    this.ttlMs = config.EMAIL_TOKEN_TTL_SECONDS * 1000;
    this.requestLimit = config.MAIL_REQUEST_LIMIT;
    this.requestWindowSeconds = config.MAIL_REQUEST_WINDOW_SECONDS;
    this.passwordPolicy = { minLength: config.PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH };
  }

  /** `POST /password-reset/request`: public; the same answer and work for every organisation and address. */
  async request(dto: PasswordResetRequestDto): Promise<{ message: string }> {
    const tenantId = dto.organisation;
    const email = normaliseEmail(dto.email);
    // The event contract is stricter about e-mails than class-validator; refuse here rather than fail the outbox write.
    if (!Events.passwordResetRequested.schema.shape.email.safeParse(email).success) {
      throw validationFailed('email must be an e-mail address');
    }
    const decision = await this.throttle.hit(tenantId, 'password_reset', email, this.requestLimit, this.requestWindowSeconds);
    if (!decision.allowed) throw AuthErrors.tooManyMailRequests(decision.retryAfterSeconds);
    await this.transactions.inTenant(tenantId, (m) =>
      this.events.publish(m, Events.passwordResetRequested, { email }, { tenantId, actor: AUTH_SERVICE_ACTOR }),
    );
    this.logger.log({ msg: PasswordResetMessages.requested, tenantId });
    return { message: PasswordResetMessages.accepted };
  }

  /**
   * The consumer of `auth.password_reset.requested` (in the inbox transaction): when the organisation is active and
   * has the account, stores a new token (older unused ones stop working) and asks for the e-mail; otherwise nothing.
   */
  async issue(manager: EntityManager, caller: BusCaller, event: PasswordResetRequestedEvent): Promise<void> {
    if (caller.actor?.kind !== 'service' || caller.actor.id !== AUTH_SERVICE_ACTOR.id) {
      // A refusal (403): parked at once, not retried for a minute (retrying cannot change the sender).
      throw forbidden(PasswordResetMessages.forbiddenActor);
    }
    const tenantId = caller.tenantId;
    await this.transactions.scopeToTenant(manager, tenantId);
    const organisation = await this.organisations.findById(manager, tenantId);
    if (!organisation || organisation.suspended) return;
    const user = await this.users.findByEmail(manager, tenantId, normaliseEmail(event.email));
    if (!user) return;
    const { token, hash } = createTenantToken(TenantTokenKind.passwordReset, tenantId);
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await this.tokens.replace(manager, { tenantId, userId: user.id, purpose: 'password_reset', tokenHash: hash, expiresAt });
    await this.mail.request(manager, { tenantId, template: 'password_reset', to: user.email, token, expiresAt });
    this.logger.log({ msg: PasswordResetMessages.issued, tenantId, userId: user.id });
  }

  /** `POST /password-reset`: a new password for the token's user; every session of that user ends. */
  async reset(dto: PasswordResetDto): Promise<void> {
    const parsed = parseTenantToken(TenantTokenKind.passwordReset, dto.token);
    if (!parsed) throw AuthErrors.invalidToken('password reset link');
    const { tenantId, hash } = parsed;
    // Check the token before spending tens of milliseconds of argon2 on a password nobody can use.
    const before = await this.transactions.inTenant(tenantId, (m) => this.tokens.findByHash(m, tenantId, 'password_reset', hash));
    throwUnlessValid(checkToken(before, new Date()), 'password reset link');
    const violations = passwordPolicyViolations(dto.password, this.passwordPolicy);
    if (violations.length > 0) throw AuthErrors.weakPassword(violations);
    const passwordHash = await this.hasher.hash(dto.password);

    const now = new Date();
    const outcome = await this.transactions.inTenant(tenantId, async (m): Promise<ResetOutcome> => {
      const token = await this.tokens.findByHash(m, tenantId, 'password_reset', hash, true);
      const check = checkToken(token, now);
      if (check !== 'valid' || !token) return { check };
      const user = await this.users.findById(m, tenantId, token.userId);
      const organisation = await this.organisations.findById(m, tenantId);
      if (!user || !organisation) return { check: 'invalid' };
      if (organisation.suspended) return { check, suspended: true };
      await this.tokens.markUsed(m, tenantId, token.id, now);
      await this.users.updatePasswordHash(m, tenantId, user.id, passwordHash);
      // The e-mail reached them, so the address is theirs.
      await this.users.markEmailVerified(m, tenantId, user.id, now);
      const revoked = await this.refreshTokens.revokeAllForUser(m, tenantId, user.id, now);
      return { check, user, revoked };
    });
    throwUnlessValid(outcome.check, 'password reset link');
    if (outcome.suspended) throw AuthErrors.organisationSuspended();
    if (!outcome.user) throw AuthErrors.invalidToken('password reset link');
    // A locked-out account is open again: the lockout message itself points people here.
    await this.loginAttempts.reset(tenantId, outcome.user.email);
    this.logger.log({ msg: PasswordResetMessages.completed, tenantId, userId: outcome.user.id, revokedTokens: outcome.revoked });
  }
}
