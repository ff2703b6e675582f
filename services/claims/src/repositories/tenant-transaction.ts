import { bindTenant as bindTenantSetting, TENANT_SETTING } from '@rallyforge/service-kit';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The one place a tenant is bound to a database transaction. It sets `app.tenant_id` for the transaction
 * (`set_config(..., true)` = SET LOCAL), which the Row-Level Security policies read
 * (docs/adr/0005-row-level-security.md): without it, the claims tables show no rows and accept none.
 */
export async function bindTenant(manager: EntityManager, tenantId: string): Promise<void> {
  await bindTenantSetting(manager, tenantId);
}

/** Runs `work` in a transaction bound to `tenantId`. */
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

/** The parts of pg's Pool and PoolClient the hot read path uses. */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
}

export interface PgPoolClient {
  query(config: string | { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  escapeLiteral(value: string): string;
  release(error?: Error | boolean): void;
}

/**
 * A hot-path read: one named (prepared) statement on a pooled connection, in a READ ONLY transaction bound to
 * `tenantId`. Three round trips (BEGIN with the binding in one simple query, the statement, COMMIT), all on the
 * same connection; the binding ends with the transaction, so the pooled connection carries nothing to its next user.
 */
export async function readInTenant<T>(
  pool: PgPool,
  tenantId: string,
  statement: { name: string; text: string; values: unknown[] },
): Promise<T[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN READ ONLY; SELECT set_config('${TENANT_SETTING}', ${client.escapeLiteral(tenantId)}, true)`);
    const result = await client.query(statement);
    await client.query('COMMIT');
    return result.rows as T[];
  } catch (error) {
    // ROLLBACK outside a transaction only warns; when even it fails, the connection is not reusable.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken ?? false);
  }
}
