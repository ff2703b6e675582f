import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditCursor } from './audit-cursor';

export interface AuditEventRow {
  id: string;
  tenant_id: string;
  occurred_at: Date;
  recorded_at: Date;
  source: string;
  actor_kind: 'user' | 'service';
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  result: 'success' | 'failure' | 'denied';
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export interface NewAuditEvent {
  tenantId: string;
  occurredAt: Date;
  source: string;
  /** The bus message the entry came in, for idempotency; none for entries auth records itself. */
  messageId?: string;
  actorKind: 'user' | 'service';
  actorId: string;
  action: string;
  targetType?: string;
  targetId?: string;
  result: 'success' | 'failure' | 'denied';
  ip?: string;
  userAgent?: string;
  requestId?: string;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  tenantId: string;
  actorId?: string;
  action?: string;
  from?: Date;
  to?: Date;
  after?: AuditCursor;
  limit: number;
}

const COLUMNS =
  'id, tenant_id, occurred_at, recorded_at, source, actor_kind, actor_id, action, target_type, target_id, result, ip, user_agent, request_id, details';

/**
 * The only code that touches `audit_events`: INSERT and SELECT, nothing else (the table refuses the rest). Every
 * query names the tenant, and runs in a transaction bound to it (Row-Level Security).
 */
@Injectable()
export class AuditRepository {
  /** Appends an entry; a message already stored (same message id) is ignored. Returns whether a row was added. */
  async insert(manager: EntityManager, event: NewAuditEvent): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO audit_events (tenant_id, occurred_at, source, message_id, actor_kind, actor_id, action, target_type, target_id,
                                 result, ip, user_agent, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING id`,
      [
        event.tenantId,
        event.occurredAt,
        event.source,
        event.messageId ?? null,
        event.actorKind,
        event.actorId,
        event.action,
        event.targetType ?? null,
        event.targetId ?? null,
        event.result,
        event.ip ?? null,
        event.userAgent ?? null,
        event.requestId ?? null,
        JSON.stringify(event.details),
      ],
    );
    return rows.length > 0;
  }

  /** One page, newest first. */
  list(manager: EntityManager, query: AuditQuery): Promise<AuditEventRow[]> {
    const params: unknown[] = [query.tenantId];
    const where = ['tenant_id = $1'];
    const add = (clause: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(clause(params.length));
    };
    if (query.actorId !== undefined) add((n) => `actor_id = $${n}`, query.actorId);
    if (query.action !== undefined) add((n) => `action = $${n}`, query.action);
    if (query.from !== undefined) add((n) => `occurred_at >= $${n}`, query.from);
    if (query.to !== undefined) add((n) => `occurred_at < $${n}`, query.to);
    if (query.after !== undefined) {
      params.push(query.after.occurredAt, query.after.id);
      where.push(`(occurred_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(query.limit);
    return manager.query(
      `SELECT ${COLUMNS} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY occurred_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }
}
