import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig } from '@rallyforge/service-kit';
import { AccountSecurityErrors } from '../account-security.errors';
import type { AuthConfig } from '../config';
import { LoginAttemptRepository } from '../repositories/login-attempt.repository';
import { LoginRateLimitRepository, type RateLimitCounter } from '../repositories/login-rate-limit.repository';
import type { ClientInfo } from '../utils/client-info';
import { LoginHistoryService } from './login-history.service';
import { SecurityEventsService } from './security-events.service';

export const LoginProtectionMessages = {
  rateLimited: 'Refused a login: rate limit reached',
  locked: 'Refused a login: account locked after failed attempts',
} as const;

/**
 * What stands before the password check: the login rate limits (LOGIN_RATE_LIMIT_MAX_PER_IP and
 * LOGIN_RATE_LIMIT_MAX_PER_ACCOUNT attempts per LOGIN_RATE_LIMIT_WINDOW_SECONDS, every attempt counts) and the lockout
 * (LOGIN_MAX_FAILURES failed passwords or codes lock the account for LOGIN_LOCKOUT_SECONDS). Both are kept in Redis,
 * so they hold across replicas, and both exist for unknown accounts too: a 429 says nothing about whether the
 * account exists.
 */
@Injectable()
export class LoginProtectionService {
  private readonly logger = new Logger(LoginProtectionService.name);
  private readonly maxPerIp: number;
  private readonly maxPerAccount: number;
  private readonly windowSeconds: number;
  private readonly maxFailures: number;
  private readonly lockoutSeconds: number;

  constructor(
    private readonly rateLimits: LoginRateLimitRepository,
    private readonly attempts: LoginAttemptRepository,
    private readonly history: LoginHistoryService,
    private readonly securityEvents: SecurityEventsService,
    @InjectConfig() config: AuthConfig,
  ) {
    this.maxPerIp = config.LOGIN_RATE_LIMIT_MAX_PER_IP;
    this.maxPerAccount = config.LOGIN_RATE_LIMIT_MAX_PER_ACCOUNT;
    this.windowSeconds = config.LOGIN_RATE_LIMIT_WINDOW_SECONDS;
    this.maxFailures = config.LOGIN_MAX_FAILURES;
    this.lockoutSeconds = config.LOGIN_LOCKOUT_SECONDS;
  }

  /**
   * Counts a password attempt and lets it through, or throws 429 with Retry-After: TOO_MANY_LOGIN_ATTEMPTS while
   * the account is locked, LOGIN_RATE_LIMITED when the address or the account used up its attempts.
   */
  async admit(tenantId: string, email: string, client: ClientInfo): Promise<void> {
    const hit = await this.rateLimits.hit(tenantId, email, client.ip, this.windowSeconds);
    await this.refuseIfLocked(tenantId, email, client);
    if (!hit) return;
    const exceeded: RateLimitCounter[] = [];
    if (hit.account.count > this.maxPerAccount) exceeded.push(hit.account);
    if (hit.ip && hit.ip.count > this.maxPerIp) exceeded.push(hit.ip);
    if (exceeded.length === 0) return;

    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(...exceeded.map((counter) => counter.remainingMs)) / 1000));
    const limits = [hit.account.count > this.maxPerAccount ? 'account' : undefined, hit.ip && hit.ip.count > this.maxPerIp ? 'ip' : undefined]
      .filter(Boolean)
      .join(',');
    this.logger.warn({ msg: LoginProtectionMessages.rateLimited, tenantId, limits });
    this.history.recordForEmailLater(tenantId, email, 'rate_limited', client);
    this.securityEvents.loginRateLimited(tenantId, client, limits);
    throw AccountSecurityErrors.loginRateLimited(retryAfterSeconds);
  }

  /** Throws TOO_MANY_LOGIN_ATTEMPTS (429, Retry-After) while the account is locked; records it for existing accounts. */
  async refuseIfLocked(tenantId: string, email: string, client: ClientInfo): Promise<void> {
    const retryAfterSeconds = await this.lockedFor(tenantId, email);
    if (retryAfterSeconds === undefined) return;
    this.logger.log({ msg: LoginProtectionMessages.locked, tenantId });
    this.history.recordForEmailLater(tenantId, email, 'locked', client);
    throw AccountSecurityErrors.loginLocked(retryAfterSeconds);
  }

  /** Seconds until the lockout of the account ends, or undefined when it is not locked. */
  async lockedFor(tenantId: string, email: string): Promise<number | undefined> {
    if ((await this.attempts.failures(tenantId, email)) < this.maxFailures) return undefined;
    return this.attempts.remainingSeconds(tenantId, email, this.lockoutSeconds);
  }

  /** Failures (passwords and codes) that lock an account. */
  get maxLoginFailures(): number {
    return this.maxFailures;
  }

  /** A wrong password or code: one step closer to the lockout. */
  recordFailure(tenantId: string, email: string): Promise<void> {
    return this.attempts.recordFailure(tenantId, email, this.lockoutSeconds);
  }

  /** A completed login clears the failures (the rate-limit counters keep counting: they limit attempts). */
  reset(tenantId: string, email: string): Promise<void> {
    return this.attempts.reset(tenantId, email);
  }
}
