import { Injectable } from '@nestjs/common';
import { purgeTenantRows } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';

/**
 * Kept when an organisation is deleted: the audit log is append-only for everyone, the purge included. It records
 * who did what to the organisation's data, so it must outlive that data (docs/security.md, "Audit, logs and GDPR").
 */
export const RETAINED_ON_PURGE: readonly string[] = ['audit_events'];

/**
 * SQL of the organisation lifecycle (lock, purge). The purge covers every table of this database that has a
 * `tenant_id` column, not a fixed list, so a table added later (sessions, audit entries, 2FA secrets...) is purged
 * with the organisation without anyone remembering to add it here.
 */
@Injectable()
export class OrganisationLifecycleRepository {
  /** Marks the organisation suspended; false when it does not exist. */
  async suspend(manager: EntityManager, tenantId: string): Promise<boolean> {
    const [rows] = (await manager.query(
      `UPDATE organisations SET suspended = true, updated_at = now() WHERE id = $1 RETURNING id`,
      [tenantId],
    )) as [unknown[], number];
    return rows.length === 1;
  }

  /** Revokes every live refresh token of the organisation; returns how many were. */
  async revokeRefreshTokens(manager: EntityManager, tenantId: string): Promise<number> {
    const [, affected] = (await manager.query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL`,
      [tenantId],
    )) as [unknown[], number];
    return affected;
  }

  async exists(manager: EntityManager, tenantId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM organisations WHERE id = $1`, [tenantId]);
    return rows.length === 1;
  }

  /**
   * Deletes every row of `tenantId` from every tenant-owned table (purgeTenantRows: the catalogue's list, children
   * first), then the organisation itself, in the caller's transaction; returns the rows deleted per table.
   */
  async purgeTenant(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    const deleted = await purgeTenantRows(manager, tenantId, { exclude: RETAINED_ON_PURGE });
    const [, organisations] = (await manager.query(`DELETE FROM organisations WHERE id = $1`, [tenantId])) as [unknown[], number];
    return { ...deleted, organisations };
  }
}
