import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** The session setting Row-Level Security policies will read (`current_setting('app.tenant_id')`). */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * Opens the transactions every other repository works in. Tenant-owned work always runs through `inTenant`, which
 * pins the transaction to one tenant with `set_config(..., is_local => true)` (the same as `SET LOCAL`); today the
 * repositories also filter by tenant explicitly, and once RLS policies exist the database enforces it as well.
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

  /** Runs `work` in one transaction that touches only platform-level tables (signing keys). */
  inPlatform<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Scopes a transaction someone else opened (the bus inbox's) to `tenantId`. */
  async scopeToTenant(manager: EntityManager, tenantId: string): Promise<void> {
    await manager.query(`SELECT set_config($1, $2, true)`, [TENANT_SETTING, tenantId]);
  }
}
