import { Injectable } from '@nestjs/common';
import { Events, type Actor } from '@rallyforge/contracts';
import { OutboxPublisher } from '@rallyforge/bus';
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
  ) {}

  /** Inserts the metadata and its `document.uploaded` event in one transaction. */
  async create(document: NewDocument, actor: Actor): Promise<DocumentRecord> {
    return inTenantTransaction(this.dataSource, document.tenantId, async (manager) => {
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
