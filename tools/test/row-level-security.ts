import { Client } from 'pg';
import type { FreshDatabase } from './infra';

/**
 * Assertions shared by each service's Row-Level Security test (docs/adr/0005-row-level-security.md). They talk
 * to a migrated fresh database as the runtime role, the way the service does, with plain SQL: the point is what a
 * query that forgets its tenant filter gets, whatever the repositories do.
 */

/** A client of the runtime role (what the service's DATABASE_URL is). Close it with `end()`. */
export async function connectAsApp(database: FreshDatabase): Promise<Client> {
  const client = new Client({ connectionString: database.appUrl });
  await client.connect();
  return client;
}

/** Runs `work` in a transaction bound to `tenantId` (`undefined`: no tenant bound), then rolls back or commits. */
export async function inTenant<T>(
  client: Client,
  tenantId: string | undefined,
  work: () => Promise<T>,
  options: { commit?: boolean } = {},
): Promise<T> {
  await client.query('BEGIN');
  try {
    if (tenantId !== undefined) await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    const result = await work();
    await client.query(options.commit ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Tenants of the rows `SELECT * FROM <table>` returns, without any filter. */
export async function tenantsSeen(client: Client, table: string, column = 'tenant_id'): Promise<string[]> {
  const { rows } = await client.query<Record<string, string>>(`SELECT * FROM ${table}`);
  return rows.map((row) => row[column]);
}

/** What pg_catalog says about the runtime role: owned objects and attributes. */
export async function runtimeRoleFacts(client: Client): Promise<{
  superuser: boolean;
  bypassRls: boolean;
  ownedRelations: string[];
  ownedFunctions: string[];
  ownedSchemas: string[];
}> {
  const role = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  );
  const relations = await client.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
  );
  const functions = await client.query<{ name: string }>(
    `SELECT proname AS name FROM pg_proc WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
  );
  const schemas = await client.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
  );
  return {
    superuser: role.rows[0]!.rolsuper,
    bypassRls: role.rows[0]!.rolbypassrls,
    ownedRelations: relations.rows.map((row) => row.name),
    ownedFunctions: functions.rows.map((row) => row.name),
    ownedSchemas: schemas.rows.map((row) => row.name),
  };
}

/**
 * Tables of the public schema that have a `tenant_id` column but lack enabled and forced Row-Level Security or a
 * policy. Empty when every tenant-owned table follows the standard (a table added by a later migration without
 * `enableTenantRowLevelSecurity` shows up here).
 */
export async function tenantTablesWithoutRls(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ table: string }>(
    `SELECT c.relname AS table
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
     WHERE c.relkind IN ('r', 'p')
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
       AND NOT (c.relrowsecurity AND c.relforcerowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
     ORDER BY 1`,
  );
  return rows.map((row) => row.table);
}

/** The SQL error code and message of `promise`'s rejection (fails the test when it resolves). */
export async function sqlError(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { code: e.code ?? '', message: e.message ?? String(error) };
  }
  throw new Error('Expected the statement to be refused, but it succeeded');
}

/** PostgreSQL's codes: 42501 insufficient_privilege (also "new row violates row-level security policy"). */
export const INSUFFICIENT_PRIVILEGE = '42501';

/** One tenant-owned table for `describeTenantIsolation`. */
export interface IsolatedTable {
  readonly table: string;
  /** The tenant column. @default 'tenant_id' */
  readonly column?: string;
  /** Inserts one row of `tenantId` (the client's transaction is bound to that tenant; parents exist). */
  insert(client: Client, tenantId: string): Promise<void>;
}

export interface TenantIsolationSuite {
  /** The migrated database (owner and runtime role URLs). */
  readonly database: FreshDatabase;
  /** A connected client of the runtime role. */
  readonly app: Client;
}

export const TENANT_A = 'acme';
export const TENANT_B = 'globex';

/**
 * The standard Row-Level Security suite of a service database, as the runtime role: a query that forgets its
 * tenant filter returns only the bound tenant's rows, and nothing when no tenant is bound; writing a row of
 * another tenant (insert, or moving a row by update) is refused and another tenant's rows cannot be changed;
 * the role cannot switch RLS off, owns nothing and has neither SUPERUSER nor BYPASSRLS; every table with a
 * `tenant_id` column is covered; the outbox takes only the bound tenant's events while the relay (no tenant)
 * reads them all. Call inside a `describe`; `tables` are filled in order (parents first), two rows of
 * TENANT_A and one of TENANT_B each. Returns the suite's database and client for service-specific tests.
 */
export function describeTenantIsolation(options: {
  label: string;
  migrate(ownerUrl: string): Promise<void>;
  tables: readonly IsolatedTable[];
}): TenantIsolationSuite {
  const suite = {} as { database: FreshDatabase; app: Client };
  // Imported here: infra.ts pulls in the infrastructure bootstrap, which a pure unit test file should not load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { freshDatabase } = require('./infra') as typeof import('./infra');

  beforeAll(async () => {
    suite.database = await freshDatabase(options.label);
    await options.migrate(suite.database.ownerUrl);
    suite.app = await connectAsApp(suite.database);
    for (const [tenantId, count] of [[TENANT_A, 2], [TENANT_B, 1]] as const) {
      await inTenant(
        suite.app,
        tenantId,
        async () => {
          for (const table of options.tables) for (let i = 0; i < count; i++) await table.insert(suite.app, tenantId);
        },
        { commit: true },
      );
    }
  });

  afterAll(async () => {
    await suite.app?.end().catch(() => undefined);
    await suite.database?.drop();
  });

  it('shows a query without a tenant filter only the rows of the bound tenant', async () => {
    for (const { table, column } of options.tables) {
      expect(await inTenant(suite.app, TENANT_A, () => tenantsSeen(suite.app, table, column))).toEqual([TENANT_A, TENANT_A]);
      expect(await inTenant(suite.app, TENANT_B, () => tenantsSeen(suite.app, table, column))).toEqual([TENANT_B]);
    }
  });

  it('shows nothing when no tenant is bound, also after a bound transaction ended on the same connection', async () => {
    for (const { table, column } of options.tables) {
      expect(await tenantsSeen(suite.app, table, column)).toEqual([]);
      await inTenant(suite.app, TENANT_A, async () => undefined);
      expect(await inTenant(suite.app, undefined, () => tenantsSeen(suite.app, table, column))).toEqual([]);
      expect(await inTenant(suite.app, '', () => tenantsSeen(suite.app, table, column))).toEqual([]);
    }
  });

  it("refuses to insert another tenant's row and to move or change rows across tenants", async () => {
    for (const { table, column = 'tenant_id', insert } of options.tables) {
      const inserted = await sqlError(inTenant(suite.app, TENANT_A, () => insert(suite.app, TENANT_B)));
      expect(inserted.code).toBe(INSUFFICIENT_PRIVILEGE);
      expect(inserted.message).toMatch(/row-level security/);
      const unbound = await sqlError(inTenant(suite.app, undefined, () => insert(suite.app, TENANT_B)));
      expect(unbound.code).toBe(INSUFFICIENT_PRIVILEGE);

      const moved = await sqlError(inTenant(suite.app, TENANT_A, () => suite.app.query(`UPDATE ${table} SET ${column} = $1`, [TENANT_B])));
      expect(moved.message).toMatch(/row-level security/);
      const [updated, deleted] = await inTenant(suite.app, TENANT_A, async () => [
        (await suite.app.query(`UPDATE ${table} SET ${column} = ${column} WHERE ${column} = $1`, [TENANT_B])).rowCount,
        (await suite.app.query(`DELETE FROM ${table} WHERE ${column} = $1`, [TENANT_B])).rowCount,
      ]);
      expect([updated, deleted]).toEqual([0, 0]);
    }
  });

  it('lets the runtime role neither switch Row-Level Security off nor own, create or become anything', async () => {
    for (const { table } of options.tables) {
      for (const statement of [
        `ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`,
        `ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`,
        `DROP POLICY tenant_isolation ON ${table}`,
        `CREATE POLICY everything ON ${table} USING (true)`,
      ]) {
        const refused = await sqlError(suite.app.query(statement));
        expect([statement, refused.code, refused.message]).toEqual([statement, INSUFFICIENT_PRIVILEGE, expect.stringMatching(/must be owner/)]);
      }
    }
    expect((await sqlError(suite.app.query('CREATE TABLE sneaky (tenant_id text)'))).message).toMatch(/permission denied/);
    expect((await sqlError(suite.app.query(`SET ROLE ${suite.database.ownerRole}`))).message).toMatch(/permission denied/);
    expect((await sqlError(suite.app.query(`SET row_security = off; SELECT * FROM ${options.tables[0]!.table}`))).message).toMatch(
      /row-level security/,
    );
    await suite.app.query('RESET row_security');
    expect(await runtimeRoleFacts(suite.app)).toEqual({
      superuser: false,
      bypassRls: false,
      ownedRelations: [],
      ownedFunctions: [],
      ownedSchemas: [],
    });
  });

  it('covers every table that has a tenant_id column', async () => {
    expect(await tenantTablesWithoutRls(suite.app)).toEqual([]);
  });

  it('takes outbox events of the bound tenant only, and lets the relay (no tenant) read and mark them all', async () => {
    const event = (tenantId: string) =>
      suite.app.query(
        `INSERT INTO bus_outbox (id, type, version, tenant_id, envelope) VALUES (gen_random_uuid(), 'rls.probe', 1, $1, '{}')`,
        [tenantId],
      );
    await inTenant(suite.app, TENANT_A, () => event(TENANT_A), { commit: true });
    await inTenant(suite.app, TENANT_B, () => event(TENANT_B), { commit: true });
    expect((await sqlError(inTenant(suite.app, TENANT_A, () => event(TENANT_B)))).message).toMatch(/row-level security/);
    expect((await sqlError(inTenant(suite.app, undefined, () => event(TENANT_A)))).code).toBe(INSUFFICIENT_PRIVILEGE);

    const relayed = await suite.app.query<{ tenant_id: string }>(
      `UPDATE bus_outbox SET sent_at = now() WHERE type = 'rls.probe' AND sent_at IS NULL RETURNING tenant_id`,
    );
    expect(relayed.rows.map((row) => row.tenant_id).sort()).toEqual([TENANT_A, TENANT_B]);
    expect((await suite.app.query(`DELETE FROM bus_outbox WHERE type = 'rls.probe'`)).rowCount).toBe(2);
  });

  return suite;
}
