import { Injectable } from '@nestjs/common';
import { purgeTenantRows } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { bindTenant } from './tenant-transaction';

/** A claim as it appears in a GDPR export (every column the service keeps about it). */
export interface ExportedClaim {
  id: string;
  title: string;
  type: string;
  status: string;
  evidenceCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface ExportedEvidence {
  claimId: string;
  documentId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  addedAt: string;
}

/**
 * Whole-user and whole-tenant reads and deletes (GDPR export and erasure, organisation purge). Each runs in the bus
 * handler's transaction, bound to the message's tenant first, and names the tenant in every statement.
 */
@Injectable()
export class ClaimsUserDataRepository {
  async exportUser(manager: EntityManager, tenantId: string, userId: string): Promise<{ claims: ExportedClaim[]; evidence: ExportedEvidence[] }> {
    await bindTenant(manager, tenantId);
    const claims: ExportedClaim[] = await manager.query(
      `SELECT id, title, type, status, evidence_count AS "evidenceCount", created_at AS "createdAt", updated_at AS "updatedAt"
       FROM claims WHERE tenant_id = $1 AND owner_id = $2 ORDER BY created_at, id`,
      [tenantId, userId],
    );
    const evidence: ExportedEvidence[] = await manager.query(
      `SELECT e.claim_id AS "claimId", e.document_id AS "documentId", e.filename, e.content_type AS "contentType",
              e.size_bytes::int AS "sizeBytes", e.sha256, e.added_at AS "addedAt"
       FROM claim_evidence e JOIN claims c ON c.id = e.claim_id AND c.tenant_id = e.tenant_id
       WHERE e.tenant_id = $1 AND c.owner_id = $2 ORDER BY e.added_at, e.document_id`,
      [tenantId, userId],
    );
    return { claims, evidence };
  }

  /** Deletes the user's claims and their evidence; returns the counts. Repeating it deletes nothing more. */
  async eraseUser(manager: EntityManager, tenantId: string, userId: string): Promise<{ claims: number; evidence: number }> {
    await bindTenant(manager, tenantId);
    const [, evidence] = (await manager.query(
      `DELETE FROM claim_evidence e USING claims c
       WHERE e.claim_id = c.id AND e.tenant_id = $1 AND c.tenant_id = $1 AND c.owner_id = $2`,
      [tenantId, userId],
    )) as [unknown[], number];
    const [, claims] = (await manager.query(`DELETE FROM claims WHERE tenant_id = $1 AND owner_id = $2`, [tenantId, userId])) as [
      unknown[],
      number,
    ];
    return { claims, evidence };
  }

  /** Every row of the tenant, in every tenant-owned table. */
  async purgeTenant(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    await bindTenant(manager, tenantId);
    return purgeTenantRows(manager, tenantId);
  }
}
