import { Injectable } from '@nestjs/common';
import { bindTenant, TENANT_SETTING } from '@rallyforge/service-kit';
import { DataSource, EntityManager } from 'typeorm';

/** The session setting the Row-Level Security policies read (`current_setting('app.tenant_id')`). */
export { TENANT_SETTING };

/**
 * Opens the transactions every other repository works in. Tenant-owned work always runs through `inTenant`, which
 * pins the transaction to one tenant with `set_config(..., is_local => true)` (the same as `SET LOCAL`); the
 * repositories also filter by tenant explicitly, and the RLS policies (docs/adr/0005-row-level-security.md) make the
 * database enforce it: without a bound tenant the tenant-owned tables show no rows and accept none.
 */
@Injectable()
export class TransactionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction scoped to `tenantId`. */
  inTenant<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await this.scopeToTenant(manager, tenantId);
      return work(manager);
    });
  }

  /** Runs `work` in one transaction that touches only platform-level tables (signing keys: outside RLS). */
  inPlatform<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Scopes a transaction someone else opened (the bus inbox's) to `tenantId`. */
  async scopeToTenant(manager: EntityManager, tenantId: string): Promise<void> {
    await bindTenant(manager, tenantId);
  }
}
