import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LoginHistoryEntity, type LoginResult, type MfaMethod } from '../entities/login-history.entity';

export interface NewLoginRecord {
  tenantId: string;
  userId: string;
  occurredAt: Date;
  result: LoginResult;
  mfaMethod?: MfaMethod | null;
  ip?: string | null;
  userAgent?: string | null;
  sessionId?: string | null;
}

/** Position after the last record of a page: records are ordered by (occurred_at DESC, id DESC). */
export interface LoginHistoryCursor {
  occurredAt: Date;
  id: string;
}

/** The login history table: append and page through one user's records; every query names tenant and user. */
@Injectable()
export class LoginHistoryRepository {
  async insert(manager: EntityManager, record: NewLoginRecord): Promise<void> {
    await manager.insert(LoginHistoryEntity, {
      tenantId: record.tenantId,
      userId: record.userId,
      occurredAt: record.occurredAt,
      result: record.result,
      mfaMethod: record.mfaMethod ?? null,
      ip: record.ip ?? null,
      userAgent: record.userAgent ?? null,
      sessionId: record.sessionId ?? null,
    });
  }

  /** Up to `limit` records of the user, newest first, after `cursor` when given. */
  page(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    limit: number,
    cursor?: LoginHistoryCursor,
  ): Promise<LoginHistoryEntity[]> {
    const query = manager
      .createQueryBuilder(LoginHistoryEntity, 'h')
      .where('h.tenant_id = :tenantId AND h.user_id = :userId', { tenantId, userId })
      .orderBy('h.occurred_at', 'DESC')
      .addOrderBy('h.id', 'DESC')
      .limit(limit);
    if (cursor) {
      query.andWhere('(h.occurred_at, h.id) < (:occurredAt, :id)', { occurredAt: cursor.occurredAt, id: cursor.id });
    }
    return query.getMany();
  }
}
