import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { AuthUser } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { AccountSecurityErrors } from '../account-security.errors';
import {
  LOGIN_HISTORY_DEFAULT_LIMIT,
  type LoginHistoryPageDto,
  type LoginHistoryQueryDto,
} from '../dtos/account-security.dto';
import type { LoginResult, MfaMethod } from '../entities/login-history.entity';
import { LoginHistoryRepository } from '../repositories/login-history.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserRepository } from '../repositories/user.repository';
import { describeDevice, type ClientInfo } from '../utils/client-info';
import { LoginHistoryCursorCodec } from '../utils/login-history-cursor';

export const LoginHistoryMessages = {
  recordFailed: 'Could not record a login attempt in the login history',
} as const;

/** What one login attempt of an existing account became. */
export interface LoginRecord {
  tenantId: string;
  userId: string;
  result: LoginResult;
  client: ClientInfo;
  mfaMethod?: MfaMethod;
  sessionId?: string;
  at?: Date;
}

/**
 * The login history: every attempt on an existing account (time, client address, user agent, result). Successful
 * logins are recorded in the transaction that issues the tokens. Refused attempts are recorded off the response
 * path: an unknown account has no history, and waiting for a write only for existing ones would let response
 * times tell the two apart.
 */
@Injectable()
export class LoginHistoryService implements OnApplicationShutdown {
  private readonly logger = new Logger(LoginHistoryService.name);
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly users: UserRepository,
    private readonly history: LoginHistoryRepository,
  ) {}

  /** Records in the caller's transaction (bound to the record's tenant). */
  async record(manager: EntityManager, record: LoginRecord): Promise<void> {
    await this.history.insert(manager, {
      tenantId: record.tenantId,
      userId: record.userId,
      occurredAt: record.at ?? new Date(),
      result: record.result,
      mfaMethod: record.mfaMethod ?? null,
      ip: record.client.ip ?? null,
      userAgent: record.client.userAgent ?? null,
      sessionId: record.sessionId ?? null,
    });
  }

  /** Records in the background, for a known user. */
  recordLater(record: LoginRecord): void {
    const at = record.at ?? new Date();
    this.track(this.transactions.inTenant(record.tenantId, (m) => this.record(m, { ...record, at })));
  }

  /** Records in the background when `email` names an account of `tenantId`; does nothing for unknown accounts. */
  recordForEmailLater(tenantId: string, email: string, result: LoginResult, client: ClientInfo): void {
    const at = new Date();
    this.track(
      this.transactions.inTenant(tenantId, async (m) => {
        const user = await this.users.findByEmail(m, tenantId, email);
        if (user) await this.record(m, { tenantId, userId: user.id, result, client, at });
      }),
    );
  }

  /** The caller's own login history, newest first; tenant and user come from the verified token only. */
  async list(caller: AuthUser, query: LoginHistoryQueryDto): Promise<LoginHistoryPageDto> {
    const { tenantId, userId } = caller;
    const limit = query.limit ?? LOGIN_HISTORY_DEFAULT_LIMIT;
    const cursor = query.cursor === undefined ? undefined : LoginHistoryCursorCodec.decode(query.cursor);
    if (query.cursor !== undefined && !cursor) throw AccountSecurityErrors.invalidCursor();
    // One more than asked tells whether another page exists without a count query.
    const rows = await this.transactions.inTenant(tenantId, (m) => this.history.page(m, tenantId, userId, limit + 1, cursor));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => ({
        id: row.id,
        occurredAt: row.occurredAt.toISOString(),
        result: row.result,
        mfaMethod: row.mfaMethod,
        ip: row.ip,
        userAgent: row.userAgent,
        device: describeDevice(row.userAgent),
      })),
      nextCursor: rows.length > limit && last ? LoginHistoryCursorCodec.encode({ occurredAt: last.occurredAt, id: last.id }) : null,
    };
  }

  /** Resolves once every background write started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.logger.warn({ msg: LoginHistoryMessages.recordFailed, err: error }));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
