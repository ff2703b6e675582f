import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig, type AuthUser } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { AuthErrors } from '../auth.errors';
import type { AuthConfig } from '../config';
import type { UserEntity } from '../entities/user.entity';
import { MailThrottleRepository } from '../repositories/mail-throttle.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserTokenRepository } from '../repositories/user-token.repository';
import { UserRepository } from '../repositories/user.repository';
import { createTenantToken, parseTenantToken, TenantTokenKind } from '../utils/tenant-token';
import { MailRequestService } from './mail-request.service';

export const EmailVerificationMessages = {
  verified: 'Verified an e-mail address',
  resent: 'Sent a new verification e-mail',
} as const;

/** What a presented e-mailed token turned out to be. */
export type TokenCheck = 'valid' | 'invalid' | 'used' | 'expired';

export function checkToken(token: { usedAt: Date | null; expiresAt: Date } | null, now: Date): TokenCheck {
  if (!token) return 'invalid';
  if (token.usedAt) return 'used';
  if (token.expiresAt <= now) return 'expired';
  return 'valid';
}

/**
 * E-mail verification: a single-use token (random, stored as SHA-256, valid EMAIL_TOKEN_TTL_SECONDS) is e-mailed at
 * registration; `POST /verify-email` spends it; the signed-in user may ask for a new one, a few times an hour.
 */
@Injectable()
export class EmailVerificationService {
  private readonly logger = new Logger(EmailVerificationService.name);
  private readonly ttlMs: number;
  private readonly requestLimit: number;
  private readonly requestWindowSeconds: number;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly users: UserRepository,
    private readonly tokens: UserTokenRepository,
    private readonly throttle: MailThrottleRepository,
    private readonly mail: MailRequestService,
    @InjectConfig() config: AuthConfig,
  ) {
    this.ttlMs = config.EMAIL_TOKEN_TTL_SECONDS * 1000;
    this.requestLimit = config.MAIL_REQUEST_LIMIT;
    this.requestWindowSeconds = config.MAIL_REQUEST_WINDOW_SECONDS;
  }

  /** In the caller's transaction (registration's): a new token for `user` and the e-mail that carries it. */
  async issue(manager: EntityManager, user: Pick<UserEntity, 'tenantId' | 'id' | 'email'>): Promise<void> {
    const { token, hash } = createTenantToken(TenantTokenKind.emailVerification, user.tenantId);
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await this.tokens.replace(manager, {
      tenantId: user.tenantId,
      userId: user.id,
      purpose: 'email_verification',
      tokenHash: hash,
      expiresAt,
    });
    await this.mail.request(manager, { tenantId: user.tenantId, template: 'email_verification', to: user.email, token, expiresAt });
  }

  /** Spends a verification token: the user's address is verified from now on. */
  async verify(presented: string): Promise<void> {
    const parsed = parseTenantToken(TenantTokenKind.emailVerification, presented);
    if (!parsed) throw AuthErrors.invalidToken('verification link');
    const { tenantId, hash } = parsed;
    const now = new Date();
    const outcome = await this.transactions.inTenant(tenantId, async (m) => {
      const token = await this.tokens.findByHash(m, tenantId, 'email_verification', hash, true);
      const check = checkToken(token, now);
      if (check !== 'valid' || !token) return { check };
      await this.tokens.markUsed(m, tenantId, token.id, now);
      await this.users.markEmailVerified(m, tenantId, token.userId, now);
      return { check, userId: token.userId };
    });
    throwUnlessValid(outcome.check, 'verification link');
    this.logger.log({ msg: EmailVerificationMessages.verified, tenantId, userId: outcome.userId });
  }

  /** A new verification e-mail for the signed-in user (tenant and user from the verified token only). */
  async resend(caller: AuthUser): Promise<void> {
    const { tenantId, userId } = caller;
    const user = await this.transactions.inTenant(tenantId, (m) => this.users.findById(m, tenantId, userId));
    if (!user) throw AuthErrors.userNotFound();
    if (user.emailVerifiedAt) throw AuthErrors.emailAlreadyVerified();
    const decision = await this.throttle.hit(tenantId, 'email_verification', userId, this.requestLimit, this.requestWindowSeconds);
    if (!decision.allowed) throw AuthErrors.tooManyMailRequests(decision.retryAfterSeconds);
    await this.transactions.inTenant(tenantId, (m) => this.issue(m, user));
    this.logger.log({ msg: EmailVerificationMessages.resent, tenantId, userId });
  }
}

/** Turns a failed check into the error for `kind` (the same rule for every e-mailed token). */
export function throwUnlessValid(check: TokenCheck, kind: Parameters<typeof AuthErrors.invalidToken>[0]): void {
  switch (check) {
    case 'valid':
      return;
    case 'used':
      throw AuthErrors.tokenAlreadyUsed(kind);
    case 'expired':
      throw AuthErrors.tokenExpired(kind);
    case 'invalid':
      throw AuthErrors.invalidToken(kind);
  }
}
