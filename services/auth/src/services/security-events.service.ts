import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { AuditResult } from '@rallyforge/contracts';
import { AuditService } from '../audit/audit.service';
import { TransactionRepository } from '../repositories/transaction.repository';
import type { ClientInfo } from '../utils/client-info';

/** The audit actions of two-factor authentication, sessions and login rate limits (`<resource>.<verb>`). */
export const SecurityAuditAction = {
  twoFactorEnabled: 'auth.mfa_enabled',
  twoFactorDisabled: 'auth.mfa_disabled',
  recoveryCodesRegenerated: 'auth.mfa_codes_regenerated',
  recoveryCodeUsed: 'auth.mfa_code_used',
  sessionRevoked: 'auth.session_revoked',
  logoutAll: 'auth.logout_all',
  loginRateLimited: 'auth.login_rate_limited',
} as const;
export type SecurityAuditAction = (typeof SecurityAuditAction)[keyof typeof SecurityAuditAction];

export const SecurityEventsMessages = {
  recorded: 'Account security event',
  auditFailed: 'Could not record an account security event in the audit log',
} as const;

interface SecurityEvent {
  tenantId: string;
  /** The user acting, or, for a refused login, the account targeted (when it exists it is in the target). */
  userId?: string;
  action: SecurityAuditAction;
  result: AuditResult;
  target?: { type: string; id: string };
  details?: Record<string, string | number | boolean | null>;
  client?: ClientInfo;
}

/**
 * Where two-factor, session and login-rate-limit events leave the account-security code: one structured log line
 * (ids only, never e-mails, addresses, codes or secrets) and one entry in auth's audit log (who, what, when, IP,
 * result), written off the response path in a transaction of its own. Never throws: an audit hiccup must not undo
 * a security action that already happened.
 */
@Injectable()
export class SecurityEventsService implements OnApplicationShutdown {
  private readonly logger = new Logger(SecurityEventsService.name);
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly audit: AuditService,
  ) {}

  twoFactorEnabled(tenantId: string, userId: string): void {
    this.emit({ tenantId, userId, action: SecurityAuditAction.twoFactorEnabled, result: 'success', target: user(userId) });
  }

  twoFactorDisabled(tenantId: string, userId: string): void {
    this.emit({ tenantId, userId, action: SecurityAuditAction.twoFactorDisabled, result: 'success', target: user(userId) });
  }

  recoveryCodesRegenerated(tenantId: string, userId: string): void {
    this.emit({ tenantId, userId, action: SecurityAuditAction.recoveryCodesRegenerated, result: 'success', target: user(userId) });
  }

  recoveryCodeUsed(tenantId: string, userId: string, remaining: number, client: ClientInfo): void {
    this.emit({
      tenantId,
      userId,
      action: SecurityAuditAction.recoveryCodeUsed,
      result: 'success',
      target: user(userId),
      details: { remaining },
      client,
    });
  }

  sessionRevoked(tenantId: string, userId: string, sessionId: string): void {
    this.emit({ tenantId, userId, action: SecurityAuditAction.sessionRevoked, result: 'success', target: { type: 'session', id: sessionId } });
  }

  logoutAll(tenantId: string, userId: string, sessions: number): void {
    this.emit({ tenantId, userId, action: SecurityAuditAction.logoutAll, result: 'success', target: user(userId), details: { sessions } });
  }

  /** `limits`: which counters were exhausted (`account`, `ip`). The e-mail is not recorded (it may name nobody). */
  loginRateLimited(tenantId: string, client: ClientInfo, limits: string): void {
    this.emit({ tenantId, action: SecurityAuditAction.loginRateLimited, result: 'denied', details: { limits }, client });
  }

  /** Resolves once every audit write started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  private emit(event: SecurityEvent): void {
    this.logger.log({ msg: SecurityEventsMessages.recorded, event: event.action, tenantId: event.tenantId, userId: event.userId, ...event.details });
    const write = this.transactions
      .inTenant(event.tenantId, (m) =>
        this.audit.record(m, {
          tenantId: event.tenantId,
          // A refused login has no authenticated actor; auth's rate limiter is the one acting.
          actor: event.userId ?? { kind: 'service', id: 'auth' },
          action: event.action,
          result: event.result,
          ...(event.target ? { target: event.target } : {}),
          ...(event.client?.ip ? { ip: event.client.ip } : {}),
          ...(event.client?.userAgent ? { userAgent: event.client.userAgent } : {}),
          ...(event.details ? { details: event.details } : {}),
        }),
      )
      .catch((error: unknown) => this.logger.error({ msg: SecurityEventsMessages.auditFailed, action: event.action, err: error }));
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }
}

function user(userId: string): { type: string; id: string } {
  return { type: 'user', id: userId };
}
