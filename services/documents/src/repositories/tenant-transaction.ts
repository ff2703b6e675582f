import { bindTenant } from '@rallyforge/service-kit';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The one place a tenant is bound to a database transaction. It sets `app.tenant_id` for the transaction
 * (`set_config(..., true)` = SET LOCAL), which the Row-Level Security policies read
 * (docs/adr/0005-row-level-security.md): without it, `documents` shows no rows and accepts none.
 */
export function inTenantTransaction<T>(
  dataSource: DataSource,
  tenantId: string,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await bindTenant(manager, tenantId);
    return work(manager);
  });
}
