import { Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '@rallyforge/service-kit';
import { AccountSecurityErrors } from '../account-security.errors';
import type { SessionListDto } from '../dtos/account-security.dto';
import { SessionRepository } from '../repositories/session.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { describeDevice } from '../utils/client-info';
import { SecurityEventsService } from './security-events.service';

export const SessionMessages = {
  revoked: 'Revoked a session',
  revokedAll: 'Revoked every session of a user',
} as const;

/** The id of the path `DELETE /me/sessions/current`: the session of the access token making the request. */
export const CURRENT_SESSION = 'current';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The caller's sessions (one per login, i.e. per refresh-token family). Revoking one revokes its refresh tokens: the
 * next refresh fails with INVALID_REFRESH_TOKEN. Access tokens already issued stay valid until they expire
 * (ACCESS_TOKEN_TTL_SECONDS, 15 minutes at most): verifiers do not call auth per request.
 */
@Injectable()
export class SessionService {
  private readonly logger = new Logger(SessionService.name);

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly sessions: SessionRepository,
    private readonly securityEvents: SecurityEventsService,
  ) {}

  /** The caller's active sessions, most recently used first; `currentSessionId` is the `sid` of the caller's token. */
  async list(caller: AuthUser, currentSessionId: string | undefined): Promise<SessionListDto> {
    const { tenantId, userId } = caller;
    const rows = await this.transactions.inTenant(tenantId, (m) => this.sessions.listActive(m, tenantId, userId, new Date()));
    return {
      items: rows.map((row) => ({
        id: row.id,
        createdAt: row.createdAt.toISOString(),
        lastUsedAt: row.lastUsedAt.toISOString(),
        ip: row.ip,
        userAgent: row.userAgent,
        device: describeDevice(row.userAgent),
        current: row.id === currentSessionId,
      })),
    };
  }

  /** Revokes one of the caller's sessions (`current`: their own); 404 for anything that is not theirs and active. */
  async revoke(caller: AuthUser, sessionId: string, currentSessionId: string | undefined): Promise<void> {
    const { tenantId, userId } = caller;
    const id = sessionId === CURRENT_SESSION ? currentSessionId : sessionId;
    if (!id || !UUID.test(id)) throw AccountSecurityErrors.sessionNotFound();
    const revoked = await this.transactions.inTenant(tenantId, (m) =>
      this.sessions.revoke(m, tenantId, userId, id.toLowerCase(), new Date()),
    );
    if (!revoked) throw AccountSecurityErrors.sessionNotFound();
    this.logger.log({ msg: SessionMessages.revoked, tenantId, userId, sessionId: id });
    this.securityEvents.sessionRevoked(tenantId, userId, id);
  }

  /** Logout from all devices: every session and refresh token of the caller, the current one included. */
  async revokeAll(caller: AuthUser): Promise<void> {
    const { tenantId, userId } = caller;
    const count = await this.transactions.inTenant(tenantId, (m) => this.sessions.revokeAll(m, tenantId, userId, new Date()));
    this.logger.log({ msg: SessionMessages.revokedAll, tenantId, userId, sessions: count });
    this.securityEvents.logoutAll(tenantId, userId, count);
  }
}
