import type { EntityManager } from 'typeorm';

/** Tables never purged with a tenant: the bus's bookkeeping (the purge's own outbox event must survive it). */
export const TENANT_PURGE_EXCLUDED_TABLES: readonly string[] = ['bus_outbox', 'bus_inbox'];

/** Bounds the dependency-ordering passes (each pass must delete from at least one more table or the purge gives up). */
export const TENANT_PURGE_MAX_PASSES = 8;

/** Some tables kept refusing the delete (a foreign key from a table without `tenant_id`, a trigger...). */
export class TenantPurgeBlockedError extends Error {
  override readonly name = 'TenantPurgeBlockedError';
  constructor(readonly failures: Readonly<Record<string, string>>) {
    super(
      `Could not delete the tenant's rows from ${Object.keys(failures).join(', ')} (` +
        Object.entries(failures)
          .map(([table, reason]) => `${table}: ${reason}`)
          .join('; ') +
        '); fix the blocking constraint and send the request again (the purge is idempotent)',
    );
  }
}

export interface TenantPurgeOptions {
  /** More tables to leave alone, besides TENANT_PURGE_EXCLUDED_TABLES. */
  readonly exclude?: readonly string[];
}

/**
 * Deletes every row of `tenantId` from every table of the current schema that has a `tenant_id` column, in the
 * caller's transaction (which should already be bound to the tenant for Row-Level Security). Returns the rows
 * deleted per table. Working from the catalogue rather than a list means a tenant-owned table added later is purged
 * without anyone remembering to add it; tables are tried in passes, each in a savepoint, so children go before the
 * parents their foreign keys point at whatever order the catalogue lists them in. Idempotent.
 */
export async function purgeTenantRows(
  manager: EntityManager,
  tenantId: string,
  options: TenantPurgeOptions = {},
): Promise<Record<string, number>> {
  const excluded = new Set([...TENANT_PURGE_EXCLUDED_TABLES, ...(options.exclude ?? [])]);
  const rows: Array<{ table_name: string }> = await manager.query(
    `SELECT c.table_name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
     ORDER BY c.table_name`,
  );
  let pending = rows.map((row) => row.table_name).filter((table) => !excluded.has(table));
  const deleted: Record<string, number> = {};
  let failures: Record<string, string> = {};
  for (let pass = 0; pass < TENANT_PURGE_MAX_PASSES && pending.length > 0; pass++) {
    failures = {};
    const next: string[] = [];
    for (const table of pending) {
      await manager.query('SAVEPOINT rf_tenant_purge');
      try {
        const [, affected] = (await manager.query(`DELETE FROM ${quoteIdent(table)} WHERE tenant_id = $1`, [tenantId])) as [
          unknown[],
          number,
        ];
        await manager.query('RELEASE SAVEPOINT rf_tenant_purge');
        deleted[table] = affected;
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT rf_tenant_purge');
        failures[table] = error instanceof Error ? error.message : String(error);
        next.push(table);
      }
    }
    if (next.length === pending.length) break;
    pending = next;
  }
  if (pending.length > 0) throw new TenantPurgeBlockedError(failures);
  return deleted;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
