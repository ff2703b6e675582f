import type { EntityManager, QueryRunner } from 'typeorm';

/**
 * Row-Level Security, the standard way (docs/adr/0005-row-level-security.md). Every tenant-owned table gets
 * `enableTenantRowLevelSecurity` in the migration that creates it; every transaction that touches such a table
 * first calls `bindTenant` (services wrap it in their `inTenant` helpers); the runtime role owns no table and has
 * no BYPASSRLS, so a query that forgets its tenant filter still sees only the bound tenant's rows, and nothing
 * when no tenant is bound.
 */

/** The transaction-local setting the policies read. */
export const TENANT_SETTING = 'app.tenant_id';

/** Name of the policy `enableTenantRowLevelSecurity` creates on each table. */
export const TENANT_ISOLATION_POLICY = 'tenant_isolation';

/**
 * The tenant bound to the current transaction, or NULL when none is: `current_setting(..., true)` is NULL in a
 * session that never set it and '' after a transaction that set it locally ended, and NULL matches no row.
 */
export const CURRENT_TENANT_SQL = `NULLIF(current_setting('${TENANT_SETTING}', true), '')`;

/** Search path of every SECURITY DEFINER function: system catalogue first, nothing writable by the runtime role. */
export const SECURITY_DEFINER_SEARCH_PATH = 'pg_catalog, public, pg_temp';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function identifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`Invalid ${what} "${name}": use a lower-case SQL identifier (letters, digits, underscores)`);
  }
  return name;
}

export interface TenantPolicyOptions {
  /** The column holding the tenant id. @default 'tenant_id' (auth's `organisations` uses its primary key, `id`) */
  readonly column?: string;
}

/**
 * The statements that isolate `table` by tenant: ENABLE and FORCE Row-Level Security (FORCE: the policy binds the
 * table owner too, unless that role has BYPASSRLS) and one policy for every command, `USING` (which rows a
 * statement sees) and `WITH CHECK` (which rows it may write) alike. Re-runnable: the policy is replaced.
 */
export function tenantRowLevelSecuritySql(table: string, options: TenantPolicyOptions = {}): string[] {
  const name = identifier(table, 'table name');
  const column = identifier(options.column ?? 'tenant_id', 'tenant column');
  const predicate = `${column} = ${CURRENT_TENANT_SQL}`;
  return [
    `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`,
    `DROP POLICY IF EXISTS ${TENANT_ISOLATION_POLICY} ON ${name}`,
    `CREATE POLICY ${TENANT_ISOLATION_POLICY} ON ${name} FOR ALL USING (${predicate}) WITH CHECK (${predicate})`,
  ];
}

/** The reverse of `tenantRowLevelSecuritySql`, for a migration's `down`. */
export function dropTenantRowLevelSecuritySql(table: string): string[] {
  const name = identifier(table, 'table name');
  return [
    `DROP POLICY IF EXISTS ${TENANT_ISOLATION_POLICY} ON ${name}`,
    `ALTER TABLE ${name} NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE ${name} DISABLE ROW LEVEL SECURITY`,
  ];
}

/** In a migration: isolates each of `tables` by tenant (see `tenantRowLevelSecuritySql`). */
export async function enableTenantRowLevelSecurity(
  queryRunner: QueryRunner,
  tables: string | readonly string[],
  options: TenantPolicyOptions = {},
): Promise<void> {
  for (const table of typeof tables === 'string' ? [tables] : tables) {
    for (const statement of tenantRowLevelSecuritySql(table, options)) await queryRunner.query(statement);
  }
}

/** In a migration's `down`: removes the isolation of each of `tables`. */
export async function disableTenantRowLevelSecurity(queryRunner: QueryRunner, tables: string | readonly string[]): Promise<void> {
  for (const table of typeof tables === 'string' ? [tables] : tables) {
    for (const statement of dropTenantRowLevelSecuritySql(table)) await queryRunner.query(statement);
  }
}

/**
 * The bus outbox is the bus's infrastructure, not tenant data, and its relay is cross-tenant by design (it
 * publishes every tenant's events, then marks and cleans them up). What must hold is that a transaction bound to
 * one tenant can only write events of that tenant: the INSERT policy checks it; reading, marking and deleting stay
 * open to the relay. The inbox (`bus_inbox`: consumer, message id, type) holds no tenant data and has no policy.
 */
export function outboxRowLevelSecuritySql(table = 'bus_outbox'): string[] {
  const name = identifier(table, 'table name');
  const predicate = `tenant_id = ${CURRENT_TENANT_SQL}`;
  return [
    `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${name} FORCE ROW LEVEL SECURITY`,
    ...['outbox_tenant_insert', 'outbox_relay_select', 'outbox_relay_update', 'outbox_relay_delete'].map(
      (policy) => `DROP POLICY IF EXISTS ${policy} ON ${name}`,
    ),
    `CREATE POLICY outbox_tenant_insert ON ${name} FOR INSERT WITH CHECK (${predicate})`,
    `CREATE POLICY outbox_relay_select ON ${name} FOR SELECT USING (true)`,
    `CREATE POLICY outbox_relay_update ON ${name} FOR UPDATE USING (true)`,
    `CREATE POLICY outbox_relay_delete ON ${name} FOR DELETE USING (true)`,
  ];
}

export interface SecurityDefinerFunction {
  /** Function name (unqualified; created in `public`). */
  readonly name: string;
  /** Argument list, e.g. `provider text, provider_ref text`. */
  readonly args: string;
  /** Argument types only, e.g. `text, text` (for REVOKE/GRANT/DROP). */
  readonly argTypes: string;
  /** Return type, e.g. `text`. */
  readonly returns: string;
  /** The SQL body (LANGUAGE sql); schema-qualify tables (`public.payments`). */
  readonly body: string;
}

/**
 * A lookup that must run before the tenant is known (a provider webhook names only the provider's reference, for
 * example). SECURITY DEFINER: it runs as its owner, the migration role, which bypasses Row-Level Security, so it
 * must return the least that lets the caller continue (typically the tenant id, never whole rows); the caller then
 * binds that tenant and does everything else under the policies. STABLE, fixed search_path, no EXECUTE for
 * PUBLIC: only the runtime role (through the default privileges tools/infra/postgres.ts sets) may call it.
 */
export function securityDefinerFunctionSql(fn: SecurityDefinerFunction): string[] {
  const name = identifier(fn.name, 'function name');
  return [
    `CREATE OR REPLACE FUNCTION public.${name}(${fn.args}) RETURNS ${fn.returns}
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ${SECURITY_DEFINER_SEARCH_PATH}
       AS $fn$ ${fn.body} $fn$`,
    `REVOKE ALL ON FUNCTION public.${name}(${fn.argTypes}) FROM PUBLIC`,
  ];
}

/** Binds the transaction of `manager` to `tenantId` (`SET LOCAL app.tenant_id`): the policies then apply to it. */
export async function bindTenant(manager: EntityManager | QueryRunner, tenantId: string): Promise<void> {
  await manager.query(`SELECT set_config('${TENANT_SETTING}', $1, true)`, [tenantId]);
}
