import type { DataSource, EntityManager } from 'typeorm';

/**
 * The one place a tenant is bound to a database transaction. It sets `app.tenant_id` for the transaction
 * (`set_config(..., true)` = SET LOCAL), which Row-Level Security policies will read: adding RLS later needs
 * policies only, no change in the repositories.
 */
export function inTenantTransaction<T>(
  dataSource: DataSource,
  tenantId: string,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    return work(manager);
  });
}
