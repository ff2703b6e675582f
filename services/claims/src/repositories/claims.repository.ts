import { Injectable } from '@nestjs/common';
import { AuditAction, Events, type Actor } from '@rallyforge/contracts';
import { OutboxPublisher } from '@rallyforge/bus';
import { AuditTrail, type AuthUser } from '@rallyforge/service-kit';
import { DataSource, type EntityManager } from 'typeorm';
import type { ClaimStatus, ClaimType } from '../claims.constants';
import type { ClaimScope } from '../utils/claim-access';
import type { ClaimCursor } from '../utils/claim-cursor';
import { bindTenant, inTenantTransaction, readInTenant, type PgPool } from './tenant-transaction';

export interface ClaimRecord {
  id: string;
  tenantId: string;
  ownerId: string;
  title: string;
  type: ClaimType;
  status: ClaimStatus;
  evidenceCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface EvidenceRecord {
  documentId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  addedAt: Date;
}

export interface NewClaim {
  id: string;
  tenantId: string;
  ownerId: string;
  title: string;
  type: ClaimType;
  status: ClaimStatus;
}

export interface NewEvidence {
  id: string;
  tenantId: string;
  claimId: string;
  documentId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

/** One evidence item as json_build_object returns it (timestamps as text). */
interface EvidenceJson {
  documentId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  addedAt: string;
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  owner_id: string;
  title: string;
  type: ClaimType;
  status: ClaimStatus;
  evidence_count: number;
  created_at: Date;
  updated_at: Date;
}

const CLAIM_COLUMNS = 'id, tenant_id, owner_id, title, type, status, evidence_count, created_at, updated_at';

/**
 * The only code that reads or writes `claims` and `claim_evidence`. Every query filters by the tenant of the
 * caller (from the verified token or the message envelope, never from a request body), and by owner when the
 * scope says so. Writes run in transactions bound to the tenant (see tenant-transaction.ts); the hot reads are
 * prepared statements on the (tenant_id[, owner_id], created_at DESC, id DESC) indexes, each in a read-only
 * transaction bound to the tenant (`readInTenant`): Row-Level Security shows them only that tenant's rows.
 */
@Injectable()
export class ClaimsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
    private readonly audit: AuditTrail,
  ) {}

  private read<T>(tenantId: string, name: string, text: string, values: unknown[]): Promise<T[]> {
    return readInTenant<T>((this.dataSource.driver as unknown as { master: PgPool }).master, tenantId, { name, text, values });
  }

  /** Inserts the claim and its `claim.created` event in one transaction. */
  async create(claim: NewClaim, actor: Actor): Promise<ClaimRecord> {
    return inTenantTransaction(this.dataSource, claim.tenantId, async (manager) => {
      const rows: ClaimRow[] = await manager.query(
        `INSERT INTO claims (id, tenant_id, owner_id, title, type, status) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${CLAIM_COLUMNS}`,
        [claim.id, claim.tenantId, claim.ownerId, claim.title, claim.type, claim.status],
      );
      const created = toClaimRecord(rows[0]!);
      await this.outbox.publish(
        manager,
        Events.claimCreated,
        { claimId: created.id, ownerId: created.ownerId, title: created.title, type: created.type, status: created.status },
        { tenantId: claim.tenantId, actor },
      );
      await this.audit.record(manager, {
        tenantId: claim.tenantId,
        actor,
        action: AuditAction.claimCreated,
        target: { type: 'claim', id: created.id },
        result: 'success',
        details: { type: created.type },
      });
      return created;
    });
  }

  /**
   * Moves a claim in scope to `next` when `allowed(current)` says so, with its audit entry, in one transaction
   * (the row is locked, so concurrent changes apply in order). Undefined when the claim is not in scope; the
   * current status when the transition is refused (nothing changed).
   */
  async changeStatus(
    scope: ClaimScope,
    id: string,
    next: ClaimStatus,
    allowed: (current: ClaimStatus) => boolean,
    user: AuthUser,
  ): Promise<{ claim: ClaimRecord; changed: boolean } | undefined> {
    return inTenantTransaction(this.dataSource, scope.tenantId, async (manager) => {
      const params: unknown[] = [id, scope.tenantId];
      let where = 'id = $1 AND tenant_id = $2';
      if (scope.ownerId !== undefined) {
        params.push(scope.ownerId);
        where += ' AND owner_id = $3';
      }
      const found: ClaimRow[] = await manager.query(`SELECT ${CLAIM_COLUMNS} FROM claims WHERE ${where} FOR UPDATE`, params);
      const current = found[0];
      if (!current) return undefined;
      if (!allowed(current.status)) return { claim: toClaimRecord(current), changed: false };
      const [rows] = (await manager.query(
        `UPDATE claims SET status = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING ${CLAIM_COLUMNS}`,
        [id, scope.tenantId, next],
      )) as [ClaimRow[], number];
      await this.audit.record(manager, {
        tenantId: scope.tenantId,
        actor: user,
        action: AuditAction.claimStatusChanged,
        target: { type: 'claim', id },
        result: 'success',
        details: { from: current.status, to: next },
      });
      return { claim: toClaimRecord(rows[0]!), changed: true };
    });
  }

  /** A page of claims in scope, newest first, strictly after `after` when given. */
  async list(scope: ClaimScope, page: { limit: number; after?: ClaimCursor }): Promise<ClaimRecord[]> {
    const params: unknown[] = [scope.tenantId];
    let where = 'tenant_id = $1';
    if (scope.ownerId !== undefined) {
      params.push(scope.ownerId);
      where += ` AND owner_id = $${params.length}`;
    }
    if (page.after) {
      params.push(page.after.createdAt, page.after.id);
      where += ` AND (created_at, id) < ($${params.length - 1}, $${params.length})`;
    }
    params.push(page.limit);
    const name = `claims_list${scope.ownerId !== undefined ? '_owner' : ''}${page.after ? '_after' : ''}`;
    const rows = await this.read<ClaimRow>(
      scope.tenantId,
      name,
      `SELECT ${CLAIM_COLUMNS} FROM claims WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toClaimRecord);
  }

  /** One claim in scope with its evidence (oldest first), in one statement; undefined when out of scope. */
  async findWithEvidence(scope: ClaimScope, id: string): Promise<{ claim: ClaimRecord; evidence: EvidenceRecord[] } | undefined> {
    const params: unknown[] = [id, scope.tenantId];
    let where = 'c.id = $1 AND c.tenant_id = $2';
    if (scope.ownerId !== undefined) {
      params.push(scope.ownerId);
      where += ' AND c.owner_id = $3';
    }
    const rows = await this.read<ClaimRow & { evidence: EvidenceJson[] }>(
      scope.tenantId,
      `claims_get${scope.ownerId !== undefined ? '_owner' : ''}`,
      `SELECT c.id, c.tenant_id, c.owner_id, c.title, c.type, c.status, c.evidence_count, c.created_at, c.updated_at,
              COALESCE((
                SELECT json_agg(json_build_object(
                         'documentId', e.document_id, 'filename', e.filename, 'contentType', e.content_type,
                         'sizeBytes', e.size_bytes, 'addedAt', e.added_at)
                       ORDER BY e.added_at, e.document_id)
                FROM claim_evidence e WHERE e.claim_id = c.id AND e.tenant_id = c.tenant_id
              ), '[]'::json) AS evidence
       FROM claims c WHERE ${where}`,
      params,
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      claim: toClaimRecord(row),
      evidence: row.evidence.map((e) => ({ ...e, sizeBytes: Number(e.sizeBytes), addedAt: new Date(e.addedAt) })),
    };
  }

  /**
   * Bus path, inside the handler's transaction: the claim `id` of `tenantId`, locked until the transaction ends
   * so concurrent evidence for the same claim is counted in order.
   */
  async findForUpdate(manager: EntityManager, tenantId: string, id: string): Promise<ClaimRecord | undefined> {
    await bindTenant(manager, tenantId);
    const rows: ClaimRow[] = await manager.query(
      `SELECT ${CLAIM_COLUMNS} FROM claims WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
      [id, tenantId],
    );
    return rows[0] ? toClaimRecord(rows[0]) : undefined;
  }

  /**
   * Attaches evidence unless this document is already attached to this claim, and bumps the claim's evidence
   * count. Returns the new count, or undefined when it was attached before (nothing changed). The caller holds
   * the claim's row lock (findForUpdate).
   */
  async attachEvidence(manager: EntityManager, evidence: NewEvidence): Promise<number | undefined> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO claim_evidence (id, tenant_id, claim_id, document_id, filename, content_type, size_bytes, sha256)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT ON CONSTRAINT claim_evidence_claim_document_key DO NOTHING
       RETURNING id`,
      [
        evidence.id,
        evidence.tenantId,
        evidence.claimId,
        evidence.documentId,
        evidence.filename,
        evidence.contentType,
        evidence.sizeBytes,
        evidence.sha256,
      ],
    );
    if (inserted.length === 0) return undefined;
    // TypeORM returns [rows, affected] for UPDATE.
    const [rows] = (await manager.query(
      `UPDATE claims SET evidence_count = evidence_count + 1, updated_at = now()
       WHERE id = $1 AND tenant_id = $2 RETURNING evidence_count`,
      [evidence.claimId, evidence.tenantId],
    )) as [Array<{ evidence_count: number }>, number];
    return rows[0]!.evidence_count;
  }

  /** Writes `claim.evidence_added` to the outbox in the caller's transaction. */
  async publishEvidenceAdded(
    manager: EntityManager,
    event: { claimId: string; ownerId: string; documentId: string; filename: string; evidenceCount: number },
    options: { tenantId: string; actor?: Actor },
  ): Promise<void> {
    await this.outbox.publish(manager, Events.claimEvidenceAdded, event, options);
  }
}

function toClaimRecord(row: ClaimRow): ClaimRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    ownerId: row.owner_id,
    title: row.title,
    type: row.type,
    status: row.status,
    evidenceCount: row.evidence_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
