import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { SessionEntity } from '../entities/session.entity';

export interface SessionTouch {
  id: string;
  tenantId: string;
  userId: string;
  at: Date;
  ip: string | null;
  userAgent: string | null;
}

/** A session with whether its family still holds a live refresh token. */
export interface ActiveSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** A family is alive while one of its refresh tokens is unspent, unrevoked and unexpired. */
const LIVE_FAMILY = `EXISTS (
  SELECT 1 FROM refresh_tokens t
   WHERE t.tenant_id = s.tenant_id AND t.family_id = s.id
     AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $3)`;

/** Sessions (refresh-token families) and their revocation; every statement names the tenant and the user. */
@Injectable()
export class SessionRepository {
  /** Creates the session at login, or records its latest use at refresh (IP and user agent of the newest request). */
  async touch(manager: EntityManager, session: SessionTouch): Promise<void> {
    await manager.query(
      `INSERT INTO sessions (id, tenant_id, user_id, created_at, last_used_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE
         SET last_used_at = EXCLUDED.last_used_at,
             ip = COALESCE(EXCLUDED.ip, sessions.ip),
             user_agent = COALESCE(EXCLUDED.user_agent, sessions.user_agent)
       WHERE sessions.tenant_id = EXCLUDED.tenant_id AND sessions.user_id = EXCLUDED.user_id`,
      [session.id, session.tenantId, session.userId, session.at, session.ip, session.userAgent],
    );
  }

  /** The user's active sessions, most recently used first. */
  async listActive(manager: EntityManager, tenantId: string, userId: string, now: Date): Promise<ActiveSession[]> {
    const rows: Array<Record<string, unknown>> = await manager.query(
      `SELECT s.id, s.created_at, s.last_used_at, s.ip, s.user_agent
         FROM sessions s
        WHERE s.tenant_id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND ${LIVE_FAMILY}
        ORDER BY s.last_used_at DESC, s.id`,
      [tenantId, userId, now],
    );
    return rows.map((row) => ({
      id: row.id as string,
      createdAt: row.created_at as Date,
      lastUsedAt: row.last_used_at as Date,
      ip: row.ip as string | null,
      userAgent: row.user_agent as string | null,
    }));
  }

  /** True when `sessionId` is an active session of this user (the only ones a user may revoke). */
  async isActive(manager: EntityManager, tenantId: string, userId: string, sessionId: string, now: Date): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM sessions s
        WHERE s.tenant_id = $1 AND s.user_id = $2 AND s.id = $4 AND s.revoked_at IS NULL AND ${LIVE_FAMILY}`,
      [tenantId, userId, now, sessionId],
    );
    return rows.length > 0;
  }

  /** Revokes one session of the user and every token of its family; false when it was not the user's or not active. */
  async revoke(manager: EntityManager, tenantId: string, userId: string, sessionId: string, at: Date): Promise<boolean> {
    if (!(await this.isActive(manager, tenantId, userId, sessionId, at))) return false;
    await manager.update(SessionEntity, { tenantId, userId, id: sessionId }, { revokedAt: at });
    await manager.query(
      `UPDATE refresh_tokens SET revoked_at = $4
        WHERE tenant_id = $1 AND user_id = $2 AND family_id = $3 AND revoked_at IS NULL`,
      [tenantId, userId, sessionId, at],
    );
    return true;
  }

  /** Revokes every session of the user and every refresh token they hold; returns the number of active sessions ended. */
  async revokeAll(manager: EntityManager, tenantId: string, userId: string, at: Date): Promise<number> {
    const active = await this.listActive(manager, tenantId, userId, at);
    await manager.query(
      `UPDATE sessions SET revoked_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [tenantId, userId, at],
    );
    await manager.query(
      `UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [tenantId, userId, at],
    );
    return active.length;
  }
}
