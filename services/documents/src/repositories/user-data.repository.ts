import { Injectable } from '@nestjs/common';
import { purgeTenantRows } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';

/** A document's metadata as it appears in a GDPR export (the storage key stays internal). */
export interface ExportedDocumentRow {
  id: string;
  claimId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  storageKey: string;
}

/**
 * Whole-user and whole-tenant reads and deletes of document metadata (GDPR export and erasure, organisation purge),
 * in the bus handler's transaction bound to the message's tenant; every statement names the tenant as well. The
 * stored bytes are the StorageDriver's business (DocumentsUserDataService).
 */
@Injectable()
export class DocumentsUserDataRepository {
  async listUser(manager: EntityManager, tenantId: string, userId: string): Promise<ExportedDocumentRow[]> {
    await bindTenant(manager, tenantId);
    const rows: ExportedDocumentRow[] = await manager.query(
      `SELECT id, claim_id AS "claimId", filename, content_type AS "contentType", size_bytes::bigint AS "sizeBytes",
              sha256, created_at AS "createdAt", storage_key AS "storageKey"
       FROM documents WHERE tenant_id = $1 AND owner_id = $2 ORDER BY created_at, id`,
      [tenantId, userId],
    );
    return rows.map((row) => ({ ...row, sizeBytes: Number(row.sizeBytes) }));
  }

  async deleteUser(manager: EntityManager, tenantId: string, userId: string): Promise<number> {
    await bindTenant(manager, tenantId);
    const [, deleted] = (await manager.query(`DELETE FROM documents WHERE tenant_id = $1 AND owner_id = $2`, [tenantId, userId])) as [
      unknown[],
      number,
    ];
    return deleted;
  }

  async tenantStorageKeys(manager: EntityManager, tenantId: string): Promise<string[]> {
    await bindTenant(manager, tenantId);
    const rows: Array<{ storage_key: string }> = await manager.query(`SELECT storage_key FROM documents WHERE tenant_id = $1`, [tenantId]);
    return rows.map((row) => row.storage_key);
  }

  async purgeTenant(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    await bindTenant(manager, tenantId);
    return purgeTenantRows(manager, tenantId);
  }
}

async function bindTenant(manager: EntityManager, tenantId: string): Promise<void> {
  await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
}
