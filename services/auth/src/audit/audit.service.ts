import { Injectable, Logger } from '@nestjs/common';
import { auditEntrySchema, type AuditEntry, type AuditResult } from '@rallyforge/contracts';
import { AppError, bindTenant, ErrorCode, RequestContext, type AuthUser } from '@rallyforge/service-kit';
import { DataSource, type EntityManager } from 'typeorm';
import { SERVICE_NAME } from '../config';
import { AuditCursorCodec } from './audit-cursor';
import { AUDIT_LIST_DEFAULT_LIMIT, type AuditEventDto, type AuditPageDto, type ListAuditQueryDto } from './audit.dto';
import { AuditRepository, type AuditEventRow } from './audit.repository';

/** What auth records directly (its own actions) with `AuditService.record`. */
export interface AuditServiceRecord {
  tenantId: string;
  /** A user id, or `{ kind: 'service', id: 'operator' }`. */
  actor: string | { kind: 'user' | 'service'; id: string };
  action: string;
  target?: { type: string; id: string };
  result: AuditResult;
  /** Default: the current request's client address and user agent. */
  ip?: string;
  userAgent?: string;
  details?: Record<string, string | number | boolean | null>;
}

/** An `audit.recorded` message as the bus delivered it. */
export interface ReceivedAuditEntry {
  tenantId: string;
  messageId: string;
  occurredAt: string;
  /** The producing service (the AMQP app-id); `unknown` when absent. */
  source: string;
  entry: AuditEntry;
}

export const AuditMessages = {
  invalidCursor: 'The cursor is not valid: pass the nextCursor of a previous page, or omit it for the first page',
  invalidRange: 'from must be earlier than to',
  storedDuplicate: 'Ignored an audit entry stored before (same message id)',
} as const;

/**
 * The audit log: append-only entries of authentication events and sensitive actions, per organisation. Auth's own
 * code calls `record` in its transaction; other services send `audit.recorded` through their outbox, stored by
 * `store`; an org_admin reads their organisation's entries with `list`.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * Appends an entry in `manager`'s transaction, which must be bound to `record.tenantId`. Throws for an entry
   * that breaks the contract (a secret-looking detail key, a malformed action): that is a bug at the call site.
   */
  async record(manager: EntityManager, record: AuditServiceRecord): Promise<void> {
    const context = RequestContext.current();
    const actor = typeof record.actor === 'string' ? { kind: 'user' as const, id: record.actor } : record.actor;
    const entry = auditEntrySchema.parse({
      action: record.action,
      actor,
      result: record.result,
      ...(record.target ? { target: record.target } : {}),
      ...((record.ip ?? context?.ip) ? { ip: record.ip ?? context?.ip } : {}),
      ...((record.userAgent ?? context?.userAgent) ? { userAgent: (record.userAgent ?? context?.userAgent)!.slice(0, 300) } : {}),
      ...(context?.requestId ? { requestId: context.requestId } : {}),
      ...(record.details ? { details: record.details } : {}),
    });
    await this.audit.insert(manager, toNewEvent(record.tenantId, new Date(), SERVICE_NAME, entry));
  }

  /** Stores an entry another service sent (idempotent by message id, on top of the inbox). */
  async store(manager: EntityManager, received: ReceivedAuditEntry): Promise<void> {
    await bindTenant(manager, received.tenantId);
    const added = await this.audit.insert(manager, {
      ...toNewEvent(received.tenantId, new Date(received.occurredAt), received.source, received.entry),
      messageId: received.messageId,
    });
    if (!added) this.logger.debug({ msg: AuditMessages.storedDuplicate, messageId: received.messageId });
  }

  /** The caller's organisation's entries, newest first (the permission was checked by the guard: org_admin). */
  async list(user: AuthUser, query: ListAuditQueryDto): Promise<AuditPageDto> {
    const after = query.cursor === undefined ? undefined : AuditCursorCodec.decode(query.cursor);
    if (query.cursor !== undefined && !after) throw new AppError(400, 'INVALID_CURSOR', AuditMessages.invalidCursor);
    if (query.from && query.to && query.from >= query.to) throw new AppError(400, ErrorCode.VALIDATION_FAILED, AuditMessages.invalidRange);
    const limit = query.limit ?? AUDIT_LIST_DEFAULT_LIMIT;
    const rows = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      await bindTenant(manager, user.tenantId);
      return this.audit.list(manager, {
        tenantId: user.tenantId,
        actorId: query.actor,
        action: query.action,
        from: query.from,
        to: query.to,
        after,
        limit: limit + 1,
      });
    });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toAuditEventDto),
      nextCursor: rows.length > limit && last ? AuditCursorCodec.encode({ occurredAt: last.occurred_at, id: last.id }) : null,
    };
  }
}

function toNewEvent(tenantId: string, occurredAt: Date, source: string, entry: AuditEntry) {
  return {
    tenantId,
    occurredAt,
    source,
    actorKind: entry.actor.kind,
    actorId: entry.actor.id,
    action: entry.action,
    targetType: entry.target?.type,
    targetId: entry.target?.id,
    result: entry.result,
    ip: entry.ip,
    userAgent: entry.userAgent,
    requestId: entry.requestId,
    details: entry.details ?? {},
  };
}

function toAuditEventDto(row: AuditEventRow): AuditEventDto {
  return {
    id: row.id,
    occurredAt: row.occurred_at.toISOString(),
    source: row.source,
    actor: { kind: row.actor_kind, id: row.actor_id },
    action: row.action,
    ...(row.target_type && row.target_id ? { target: { type: row.target_type, id: row.target_id } } : {}),
    result: row.result,
    ...(row.ip ? { ip: row.ip } : {}),
    ...(row.user_agent ? { userAgent: row.user_agent } : {}),
    ...(row.request_id ? { requestId: row.request_id } : {}),
    details: row.details,
  };
}
