import { Logger } from '@nestjs/common';
import {
  AUDIT_DETAIL_MAX_LENGTH,
  Events,
  auditEntrySchema,
  type Actor,
  type AuditEntry,
  type AuditResult,
  type MessageContract,
} from '@rallyforge/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthUser } from '../auth/auth-user';
import { RequestContext } from '../context/request-context';
import { bindTenant } from '../database/row-level-security';

/** What the trail needs of the bus's OutboxPublisher (structural: the kit does not depend on the bus). */
export interface AuditOutbox {
  publish(
    manager: EntityManager,
    contract: MessageContract,
    payload: never,
    options: { tenantId: string; actor?: Actor },
  ): Promise<unknown>;
}

/** One sensitive action, as a service records it. */
export interface AuditRecord {
  /** The organisation the action belongs to (from the token or the envelope, never from a request body). */
  tenantId: string;
  /** Who: the authenticated user, a bus actor, or a service name. */
  actor: AuthUser | Actor | { kind: 'service'; id: string };
  /** `<resource>.<verb>`: AuditAction in @rallyforge/contracts. */
  action: string;
  target?: { type: string; id: string };
  result: AuditResult;
  /** A few non-personal facts; never secrets or document contents (the contract refuses secret-looking keys). */
  details?: Record<string, string | number | boolean | null>;
  /** Default: the current HTTP request's client address, user agent and request id (RequestContext). */
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

export const AuditTrailMessages = {
  recordFailed: 'Could not append an entry to the audit log',
} as const;

/**
 * The one-line way for a service to audit an action: `await this.audit.record(manager, { tenantId, actor, action,
 * target, result })` writes an `audit.recorded` event into the outbox of the caller's transaction (so the entry
 * exists exactly when the change committed); auth consumes it and appends it to the audit log. `recordNow` does the
 * same in a transaction of its own, for refusals that change nothing (it never throws: a failed audit write must
 * not turn a 403 into a 500, it is logged instead). Provided by ServiceKitModule.forRoot({ audit: { outbox } }).
 */
export class AuditTrail {
  private readonly logger = new Logger(AuditTrail.name);

  constructor(
    private readonly outbox: AuditOutbox,
    private readonly dataSource: DataSource | undefined,
    private readonly service: string,
  ) {}

  /** Appends the entry in `manager`'s transaction, which must be bound to `record.tenantId` (Row-Level Security). */
  async record(manager: EntityManager, record: AuditRecord): Promise<void> {
    const entry = toAuditEntry(record);
    // The message is the service's statement (the entry names who acted): auth accepts audit entries from services only.
    await this.outbox.publish(manager, Events.auditRecorded, entry as never, {
      tenantId: record.tenantId,
      actor: { kind: 'service', id: this.service, roles: [] },
    });
  }

  /** Appends the entry in a transaction of its own; failures are logged, never thrown. */
  async recordNow(record: AuditRecord): Promise<void> {
    if (!this.dataSource) {
      this.logger.error({ msg: AuditTrailMessages.recordFailed, action: record.action, reason: `${this.service} has no database` });
      return;
    }
    try {
      await this.dataSource.transaction(async (manager) => {
        await bindTenant(manager, record.tenantId);
        await this.record(manager, record);
      });
    } catch (error) {
      this.logger.error({ msg: AuditTrailMessages.recordFailed, action: record.action, err: error });
    }
  }
}

/** The validated payload of `audit.recorded`; request details default to the current request's. */
export function toAuditEntry(record: AuditRecord): AuditEntry {
  const context = RequestContext.current();
  const actor = 'userId' in record.actor ? { kind: 'user' as const, id: record.actor.userId } : { kind: record.actor.kind, id: record.actor.id };
  const entry = {
    action: record.action,
    actor,
    result: record.result,
    ...(record.target ? { target: record.target } : {}),
    ...optional('ip', record.ip ?? context?.ip),
    ...optional('userAgent', truncate(record.userAgent ?? context?.userAgent, 300)),
    ...optional('requestId', record.requestId ?? context?.requestId),
    ...(record.details ? { details: truncateDetails(record.details) } : {}),
  };
  return auditEntrySchema.parse(entry);
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

function truncate(value: string | undefined, max: number): string | undefined {
  return value && value.length > max ? value.slice(0, max) : value;
}

function truncateDetails(details: Record<string, string | number | boolean | null>): Record<string, string | number | boolean | null> {
  return Object.fromEntries(
    Object.entries(details).map(([key, value]) => [key, typeof value === 'string' ? truncate(value, AUDIT_DETAIL_MAX_LENGTH)! : value]),
  );
}
