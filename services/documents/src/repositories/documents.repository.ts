import { Injectable } from '@nestjs/common';
import { AuditAction, Events, type Actor } from '@rallyforge/contracts';
import { OutboxPublisher } from '@rallyforge/bus';
import { AuditTrail } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import { inTenantTransaction } from './tenant-transaction';

export interface DocumentRecord {
  id: string;
  tenantId: string;
  ownerId: string;
  claimId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  createdAt: Date;
}

export type NewDocument = Omit<DocumentRecord, 'createdAt'>;

/** Which documents a caller may see: their organisation's, and only their own unless `ownerId` is unset. */
export interface DocumentScope {
  tenantId: string;
  ownerId?: string;
}

interface DocumentRow {
  id: string;
  tenant_id: string;
  owner_id: string;
  claim_id: string;
  filename: string;
  content_type: string;
  size_bytes: string;
  sha256: string;
  storage_key: string;
  created_at: Date;
}

const COLUMNS = 'id, tenant_id, owner_id, claim_id, filename, content_type, size_bytes, sha256, storage_key, created_at';

/**
 * The only code that reads or writes `documents`. Every query filters by the caller's tenant (from the verified
 * token), and by owner when the scope says so, and runs in a transaction bound to that tenant (Row-Level Security
 * shows it nothing else).
 */
@Injectable()
export class DocumentsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Inserts the metadata, its `document.uploaded` event and its audit entry in one transaction. With a storage
   * limit, the tenant's uploads are serialised (a transaction-scoped advisory lock on the tenant) and nothing is
   * inserted when the new document would take the tenant's total over it: undefined is returned.
   */
  async create(document: NewDocument, actor: Actor, options: { storageLimitBytes?: number } = {}): Promise<DocumentRecord | undefined> {
    return inTenantTransaction(this.dataSource, document.tenantId, async (manager) => {
      if (options.storageLimitBytes !== undefined) {
        await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('documents-storage:' || $1, 0))`, [document.tenantId]);
        const [{ used }]: Array<{ used: string }> = await manager.query(
          `SELECT COALESCE(sum(size_bytes), 0) AS used FROM documents WHERE tenant_id = $1`,
          [document.tenantId],
        );
        if (Number(used) + document.sizeBytes > options.storageLimitBytes) return undefined;
      }
      const rows: DocumentRow[] = await manager.query(
        `INSERT INTO documents (id, tenant_id, owner_id, claim_id, filename, content_type, size_bytes, sha256, storage_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [
          document.id,
          document.tenantId,
          document.ownerId,
          document.claimId,
          document.filename,
          document.contentType,
          document.sizeBytes,
          document.sha256,
          document.storageKey,
        ],
      );
      const created = toRecord(rows[0]!);
      await this.outbox.publish(
        manager,
        Events.documentUploaded,
        {
          documentId: created.id,
          claimId: created.claimId,
          ownerId: created.ownerId,
          filename: created.filename,
          contentType: created.contentType,
          sizeBytes: created.sizeBytes,
          sha256: created.sha256,
        },
        { tenantId: created.tenantId, actor },
      );
      await this.audit.record(manager, {
        tenantId: created.tenantId,
        actor,
        action: AuditAction.documentUploaded,
        target: { type: 'document', id: created.id },
        result: 'success',
        details: { claimId: created.claimId, contentType: created.contentType, sizeBytes: created.sizeBytes },
      });
      return created;
    });
  }

  /** A document in scope, or undefined. */
  async findById(scope: DocumentScope, id: string): Promise<DocumentRecord | undefined> {
    const params: unknown[] = [id, scope.tenantId];
    let where = 'id = $1 AND tenant_id = $2';
    if (scope.ownerId !== undefined) {
      params.push(scope.ownerId);
      where += ' AND owner_id = $3';
    }
    const rows: DocumentRow[] = await inTenantTransaction(this.dataSource, scope.tenantId, (manager) =>
      manager.query(`SELECT ${COLUMNS} FROM documents WHERE ${where}`, params),
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }
}

function toRecord(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    ownerId: row.owner_id,
    claimId: row.claim_id,
    filename: row.filename,
    contentType: row.content_type,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    storageKey: row.storage_key,
    createdAt: row.created_at,
  };
}
