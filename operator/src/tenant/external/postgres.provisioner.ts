import { Client, escapeIdentifier, escapeLiteral, Pool, type ClientConfig, type PoolClient } from 'pg';
import { errorMessage, silentLogger, type Logger } from '../../controller-core/logger';
import { DATA_SERVICES, type DataService, type TenantPasswords } from '../credentials';
import type { ExternalLayer, TenantTarget } from '../layers';
import { abortable, SharedCheck } from './abort';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './external-systems.config';
import { postgresPasswordMatches, runtimeRolePassword, scramSha256Verifier } from './password-verifiers';
import { describeCause, ProvisionError } from './provision-error';
import { databaseUrlKey, migrationDatabaseUrlKey, tenantDatabaseRoles } from './tenant-names';

export interface PostgresProvisionerOptions {
  /** postgres://admin:password@host:port/postgres (see ExternalSystemsConfig). */
  adminUrl: string;
  /** Base of the tenants' DATABASE_URLs: scheme, host, port and query, no credentials. */
  tenantUrl: string;
  /** Checked for Row-Level Security on behalf of shared-tier tenants. */
  platformDatabases: readonly string[];
  /** @default 5000 */
  connectTimeoutMs?: number;
  /** @default 15000 */
  requestTimeoutMs?: number;
  /** How long one shared-tier check serves every shared tenant. @default 10000 */
  sharedCheckTtlMs?: number;
  /** @default 3 */
  maxAdminConnections?: number;
  logger?: Logger;
}

/**
 * Databases a tenant role may be able to connect to without that being a leak: PostgreSQL's maintenance databases
 * are open to PUBLIC by default and hold no tenant data. (A server admin may revoke that too; nothing here needs it.)
 */
export const MAINTENANCE_DATABASES: readonly string[] = ['postgres', 'template1'];
const DEFAULT_SHARED_CHECK_TTL_MS = 10_000;
const MAX_LISTED = 20;
const APPLICATION_NAME = 'rallyforge-operator';

/** One thing that is not as it should be, and the statements that put it back (run in order by `ensure`). */
interface Finding {
  reason: string;
  detail: string;
  repair: string[];
}

/** One data service's database of a dedicated tenant, with its two login roles and their passwords. */
interface TenantDatabase {
  service: DataService;
  database: string;
  owner: string;
  app: string;
  ownerPassword: string;
  appPassword: string;
}

interface ObservedRole {
  name: string;
  exists: boolean;
  rolcanlogin: boolean | null;
  rolsuper: boolean | null;
  rolcreatedb: boolean | null;
  rolcreaterole: boolean | null;
  rolreplication: boolean | null;
  rolbypassrls: boolean | null;
  rolinherit: boolean | null;
  rolconnlimit: number | null;
  valid_forever: boolean | null;
  memberships: Array<{ role: string; member: string }>;
  foreign_grants: string[];
}

interface ObservedDatabase {
  name: string;
  exists: boolean;
  owner: string | null;
  datallowconn: boolean | null;
  acl: Array<{ grantee: string | null; privilege: string }> | null;
}

interface ObservedSchema {
  schema_owner: string | null;
  app_usage: boolean;
  app_create: boolean;
  tables_missing: string[];
  sequences_missing: string[];
  default_grants: boolean;
  app_owns: string[];
}

/** What the runtime role may do on every table and sequence the owner creates (as tools/infra/postgres.ts). */
const APP_TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
const APP_SEQUENCE_PRIVILEGES = 'USAGE, SELECT';

// One round trip observes every role of a tenant: attributes, role memberships in either direction (a tenant role
// granted to another role would let that role in) and grants on any database but its own. Memberships held by the
// admin itself are the admin's own business (PostgreSQL 16 grants them to a non-superuser creator).
const ROLES_SQL = `
select n.name,
       r.oid is not null as exists,
       r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls, r.rolinherit,
       r.rolconnlimit, (r.rolvaliduntil is null or r.rolvaliduntil = 'infinity') as valid_forever,
       coalesce((select json_agg(json_build_object('role', pg_get_userbyid(m.roleid), 'member', pg_get_userbyid(m.member)))
                   from pg_auth_members m
                  where (m.roleid = r.oid or m.member = r.oid)
                    and m.member <> (select oid from pg_roles where rolname = current_user)), '[]'::json) as memberships,
       coalesce((select json_agg(distinct o.datname)
                   from pg_database o, aclexplode(o.datacl) g
                  where g.grantee = r.oid and o.datname <> n.own), '[]'::json) as foreign_grants
  from unnest($1::text[], $2::text[]) as n(name, own)
  left join pg_roles r on r.rolname = n.name`;

// The databases, with their effective ACL (a NULL datacl means the defaults, where PUBLIC may connect).
const DATABASES_SQL = `
select n.name, d.oid is not null as exists, pg_get_userbyid(d.datdba) as owner, d.datallowconn,
       (select json_agg(json_build_object(
                 'grantee', case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end,
                 'privilege', a.privilege_type))
          from aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a) as acl
  from unnest($1::text[]) as n(name)
  left join pg_database d on d.datname = n.name`;

// Inside one tenant database ($1 owner, $2 runtime role): the public schema is the owner's, the runtime role may use
// it but not create in it, has DML on every table and sequence (now, and through default privileges later) and owns
// nothing. Readable by the admin and by the runtime role itself.
const SCHEMA_SQL = `
select (select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'public') as schema_owner,
       has_schema_privilege($2, 'public', 'USAGE') as app_usage,
       has_schema_privilege($2, 'public', 'CREATE') as app_create,
       coalesce((select json_agg(c.relname order by c.relname)
                   from pg_class c join pg_namespace s on s.oid = c.relnamespace
                  where s.nspname = 'public' and c.relkind in ('r', 'p')
                    and not (has_table_privilege($2, c.oid, 'SELECT') and has_table_privilege($2, c.oid, 'INSERT')
                             and has_table_privilege($2, c.oid, 'UPDATE') and has_table_privilege($2, c.oid, 'DELETE'))), '[]'::json) as tables_missing,
       coalesce((select json_agg(c.relname order by c.relname)
                   from pg_class c join pg_namespace s on s.oid = c.relnamespace
                  where s.nspname = 'public' and c.relkind = 'S'
                    -- CASE, not AND: the planner may test the privilege first, and on a table it raises an error.
                    and case when c.relkind = 'S' then not has_sequence_privilege($2, c.oid, 'USAGE') else false end), '[]'::json) as sequences_missing,
       exists (select 1 from pg_default_acl d, aclexplode(d.defaclacl) a
                where d.defaclrole = (select oid from pg_roles where rolname = $1)
                  and d.defaclnamespace = (select oid from pg_namespace where nspname = 'public')
                  and d.defaclobjtype = 'r' and a.grantee = (select oid from pg_roles where rolname = $2)
                  and a.privilege_type = 'DELETE') as default_grants,
       coalesce((select json_agg(c.relname) from pg_class c
                  where c.relowner = (select oid from pg_roles where rolname = $2)), '[]'::json) as app_owns`;

// Run as a tenant role: what it can do in its own database and which other databases it could open.
const TENANT_PROBE_SQL = `
select has_schema_privilege('public', 'CREATE') as can_create,
       array(select datname::text from pg_database
              where datallowconn and datname <> current_database() and has_database_privilege(datname, 'CONNECT')
              order by datname) as reachable`;

// Tables carrying tenant_id without Row-Level Security both enabled and forced (forced: the owner obeys it too).
const RLS_SQL = `
select n.nspname as schema, c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p')
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
   and exists (select 1 from pg_attribute a
                where a.attrelid = c.oid and a.attname = 'tenant_id' and a.attnum > 0 and not a.attisdropped)
   and not (c.relrowsecurity and c.relforcerowsecurity)
 order by 1, 2`;

const ident = (name: string) => escapeIdentifier(name);

/**
 * PostgreSQL for one tenant. Dedicated tier: a database per data service (`rf_<id>_<service>`) with the two login
 * roles the platform's databases have (docs/adr/0005-row-level-security.md): its owner `rf_<id>_<service>`
 * (migrations; BYPASSRLS so data migrations see every row) and the runtime role `rf_<id>_<service>_app` (the
 * service: DML only, owns nothing, NOBYPASSRLS), neither able to reach anything else. Shared tier: nothing per
 * tenant; the platform's databases must enforce Row-Level Security on every table with a `tenant_id`.
 *
 * Level-based: every call observes the catalog and changes only what differs, so the periodic resync of an
 * untouched tenant issues no writes and repairs whatever someone changed by hand.
 */
export class PostgresProvisioner implements ExternalLayer {
  readonly condition = 'Database' as const;
  readonly system = 'PostgreSQL';

  private readonly pool: Pool;
  private readonly admin: URL;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly sharedCheck: SharedCheck;
  private readonly logger: Logger;
  /** False once the admin turns out unable to read pg_authid: passwords are then always set. */
  private canReadVerifiers = true;

  static create(options: PostgresProvisionerOptions): PostgresProvisioner {
    return new PostgresProvisioner(options);
  }

  private constructor(private readonly options: PostgresProvisionerOptions) {
    this.admin = new URL(options.adminUrl);
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.sharedCheck = new SharedCheck(options.sharedCheckTtlMs ?? DEFAULT_SHARED_CHECK_TTL_MS);
    this.logger = options.logger ?? silentLogger;
    this.pool = new Pool({
      connectionString: options.adminUrl,
      max: options.maxAdminConnections ?? 3,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: this.connectTimeoutMs,
      query_timeout: this.requestTimeoutMs,
      application_name: APPLICATION_NAME,
    });
    // An idle admin connection dropped by the server must not crash the operator; the next call reconnects.
    this.pool.on('error', (error) => this.logger.warn('PostgreSQL admin connection failed', { error: describeCause(error) }));
  }

  async ensure(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<Record<string, string>> {
    if (target.tier === 'shared') return {};
    const databases = tenantDatabases(target, passwords);
    await this.withAdmin('provisioning the tenant databases', signal, async (client) => {
      // Converge: creating a role or a database reveals what to fix next (a new database's default ACL).
      for (let pass = 0; pass < 3; pass += 1) {
        const findings = await this.observe(client, databases, target.suspended, 'ensure', signal);
        if (!findings.length) break;
        await this.repair(client, findings, target, signal);
      }
      if (target.suspended) await this.terminateSessions(client, roleNames(databases));
    });
    // Inside each database (schema, table grants, default privileges), as the admin connected to it.
    for (const db of databases) {
      signal?.throwIfAborted();
      await this.inDatabase(db.database, 'provisioning the schema privileges', signal, async (client) => {
        const findings = schemaFindings(db, (await client.query<ObservedSchema>(SCHEMA_SQL, [db.owner, db.app])).rows[0]!);
        if (findings.length) await this.repair(client, [{ ...findings[0]!, repair: schemaRepair(db) }], target, signal);
      });
    }
    return Object.fromEntries(
      databases.flatMap((db) => [
        [databaseUrlKey(db.service), this.tenantUrl(db.database, db.app, db.appPassword)],
        [migrationDatabaseUrlKey(db.service), this.tenantUrl(db.database, db.owner, db.ownerPassword)],
      ]),
    );
  }

  async verify(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') {
      await this.sharedCheck.run(() => this.verifyPlatformRls(), signal);
      return;
    }
    const databases = tenantDatabases(target, passwords);
    const findings = await this.withAdmin('checking the tenant databases', signal, (client) =>
      this.observe(client, databases, target.suspended, 'verify', signal),
    );
    if (findings.length) throw findingsError(findings);
    if (target.suspended) return; // the observation proved every login is disabled
    await abortable(Promise.all(databases.flatMap((db) => [this.probeAsTenant(db, 'owner'), this.probeAsTenant(db, 'app')])), signal);
  }

  async retain(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') return; // the platform's rows stay; auth locks the organisation
    const roles = roleNames(this.names(target.tenantId));
    await this.withAdmin('disabling the tenant logins', signal, async (client) => {
      const { rows } = await client.query<{ rolname: string }>(
        'select rolname from pg_roles where rolname = any($1::text[]) and rolcanlogin',
        [roles],
      );
      for (const { rolname } of rows) {
        signal?.throwIfAborted();
        await client.query(`ALTER ROLE ${ident(rolname)} NOLOGIN`);
        this.logger.info('Disabled PostgreSQL login', { tenant: target.tenantId, role: rolname });
      }
      await this.terminateSessions(client, roles);
    });
  }

  async remove(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') return; // rows in the platform's databases are auth's to delete (bus deprovisioning)
    const names = this.names(target.tenantId);
    await this.withAdmin('removing the tenant databases', signal, async (client) => {
      for (const { database, app, owner } of names) {
        signal?.throwIfAborted();
        await client.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
        await this.dropRole(client, app);
        await this.dropRole(client, owner);
      }
    });
    this.logger.info('Removed PostgreSQL databases and roles', { tenant: target.tenantId, databases: names.map((n) => n.database) });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private names(tenantId: string): Array<{ database: string; owner: string; app: string }> {
    return DATA_SERVICES.map((service) => tenantDatabaseRoles(tenantId, service));
  }

  private tenantUrl(database: string, role: string, password: string): string {
    const url = new URL(this.options.tenantUrl);
    url.username = role;
    url.password = encodeURIComponent(password);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /** Runs `work` on a pooled admin connection; connection and server failures become ProvisionErrors. */
  private async withAdmin<T>(what: string, signal: AbortSignal | undefined, work: (client: PoolClient) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const task = (async () => {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw this.adminError(error, what);
      }
      let broken: Error | undefined;
      try {
        return await work(client);
      } catch (error) {
        if (error instanceof ProvisionError || signal?.aborted) throw error;
        if (isConnectionError(error)) broken = error as Error;
        throw this.adminError(error, what);
      } finally {
        client.release(broken);
      }
    })();
    return abortable(task, signal);
  }

  /** Runs `work` as the admin connected to one tenant database (schema-level grants are per database). */
  private async inDatabase(database: string, what: string, signal: AbortSignal | undefined, work: (client: Client) => Promise<void>): Promise<void> {
    const task = (async () => {
      const client = new Client(this.clientConfig(database));
      client.on('error', () => undefined);
      try {
        await client.connect();
        await work(client);
      } catch (error) {
        if (error instanceof ProvisionError || signal?.aborted) throw error;
        throw this.adminError(error, `${what} of ${database}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    })();
    return abortable(task, signal);
  }

  private async repair(client: PoolClient | Client, findings: Finding[], target: TenantTarget, signal: AbortSignal | undefined): Promise<void> {
    for (const finding of findings) {
      for (const statement of finding.repair) {
        signal?.throwIfAborted();
        await this.execRepair(client, statement);
      }
      this.logger.info('Repaired PostgreSQL state', { tenant: target.tenantId, reason: finding.reason, detail: finding.detail });
    }
  }

  private async observe(
    client: PoolClient,
    databases: TenantDatabase[],
    suspended: boolean,
    mode: 'ensure' | 'verify',
    signal: AbortSignal | undefined,
  ): Promise<Finding[]> {
    signal?.throwIfAborted();
    const roles = databases.flatMap((db) => [db.owner, db.app]);
    const ownDatabases = databases.flatMap((db) => [db.database, db.database]);
    const { rows: roleRows } = await client.query<ObservedRole>(ROLES_SQL, [roles, ownDatabases]);
    const { rows: databaseRows } = await client.query<ObservedDatabase>(DATABASES_SQL, [databases.map((db) => db.database)]);
    const verifiers = await this.readVerifiers(client, roles);
    const role = (name: string) => roleRows.find((r) => r.name === name) as ObservedRole;
    const findings: Finding[] = [];
    for (const db of databases) {
      findings.push(...roleFindings(role(db.owner), OWNER_ROLE, db.ownerPassword, verifiers, suspended, mode));
      findings.push(...roleFindings(role(db.app), APP_ROLE, db.appPassword, verifiers, suspended, mode));
      const rolesExist = role(db.owner).exists && role(db.app).exists;
      findings.push(...databaseFindings(databaseRows.find((r) => r.name === db.database) as ObservedDatabase, db, rolesExist));
    }
    return findings;
  }

  /** Stored password verifiers by role; undefined when the admin may not read them (then they are always set). */
  private async readVerifiers(client: PoolClient, roles: string[]): Promise<Map<string, string | null> | undefined> {
    if (!this.canReadVerifiers) return undefined;
    try {
      const { rows } = await client.query<{ rolname: string; rolpassword: string | null }>(
        'select rolname, rolpassword from pg_authid where rolname = any($1::text[])',
        [roles],
      );
      return new Map(rows.map((r) => [r.rolname, r.rolpassword]));
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error;
      this.canReadVerifiers = false;
      this.logger.info('PostgreSQL admin cannot read pg_authid; tenant passwords are set on every resync');
      return undefined;
    }
  }

  private async execRepair(client: PoolClient | Client, statement: string): Promise<void> {
    try {
      await client.query(statement);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Someone (an earlier, interrupted reconcile) created it meanwhile: the next observation sees it.
      if (code === '42710' || code === '42P04') return;
      if (code === '55006') {
        throw new ProvisionError(
          'PostgresBusy',
          `PostgreSQL could not create a tenant database: ${describeCause(error)}. Another session is using the template ` +
            'database; the operator retries with backoff.',
          { cause: error },
        );
      }
      throw error;
    }
  }

  private async terminateSessions(client: PoolClient, roles: string[]): Promise<void> {
    await client.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where usename = any($1::text[]) and pid <> pg_backend_pid()',
      [roles],
    );
  }

  /** Drops a role after taking back what could keep it alive: grants on other databases and memberships. */
  private async dropRole(client: PoolClient, role: string): Promise<void> {
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    if (!exists.rowCount) return;
    await this.terminateSessions(client, [role]);
    const grants = await client.query<{ datname: string }>(
      `select distinct d.datname from pg_database d, aclexplode(d.datacl) a
        where a.grantee = (select oid from pg_roles where rolname = $1)`,
      [role],
    );
    for (const { datname } of grants.rows) await client.query(`REVOKE ALL ON DATABASE ${ident(datname)} FROM ${ident(role)} CASCADE`);
    try {
      await client.query(`DROP ROLE IF EXISTS ${ident(role)}`);
    } catch (error) {
      if ((error as { code?: string }).code !== '2BP01') throw error;
      // It still owns objects or holds privileges in the database we are connected to (e.g. `postgres`).
      await client.query(`DROP OWNED BY ${ident(role)} CASCADE`);
      try {
        await client.query(`DROP ROLE IF EXISTS ${ident(role)}`);
      } catch (again) {
        if ((again as { code?: string }).code !== '2BP01') throw again;
        const detail = (again as { detail?: string }).detail ?? describeCause(again);
        throw new ProvisionError(
          'DatabaseRoleInUse',
          `PostgreSQL role ${role} cannot be dropped: it still owns objects or holds privileges elsewhere (${detail.replace(/\n/g, '; ')}). ` +
            `Run REASSIGN OWNED BY / DROP OWNED BY ${role} in those databases, then the operator finishes the deletion.`,
          { cause: again },
        );
      }
    }
  }

  /**
   * Connects with one of the tenant's own roles. The owner can create in its database (migrations); the runtime role
   * has what the schema observation expects and cannot create; neither can open another database.
   */
  private async probeAsTenant(db: TenantDatabase, which: 'owner' | 'app'): Promise<void> {
    const role = which === 'owner' ? db.owner : db.app;
    const password = which === 'owner' ? db.ownerPassword : db.appPassword;
    const client = new Client(this.clientConfig(db.database, { user: role, password }));
    client.on('error', () => undefined);
    try {
      await client.connect();
      const probe = (await client.query<{ can_create: boolean; reachable: string[] }>(TENANT_PROBE_SQL)).rows[0]!;
      if (which === 'owner' && !probe.can_create) {
        throw new ProvisionError(
          'DatabaseSchemaPrivilegeDrift',
          `PostgreSQL role ${role} cannot create tables in the public schema of its own database, so its migrations ` +
            'fail; the operator restores the schema\'s owner on its next resync.',
        );
      }
      if (which === 'app') {
        const findings = schemaFindings(db, (await client.query<ObservedSchema>(SCHEMA_SQL, [db.owner, db.app])).rows[0]!);
        if (findings.length) throw findingsError(findings);
      }
      const leaks = probe.reachable.filter((name) => !MAINTENANCE_DATABASES.includes(name));
      if (leaks.length) {
        throw new ProvisionError(
          'DatabaseIsolationBreach',
          `PostgreSQL role ${role} can connect to other databases: ${list(leaks)}. Revoke it: ` +
            `REVOKE CONNECT ON DATABASE <name> FROM PUBLIC; grants to tenant roles are taken back by the operator.`,
        );
      }
    } catch (error) {
      if (error instanceof ProvisionError) throw error;
      throw this.tenantLoginError(error, role, db.database);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async verifyPlatformRls(): Promise<void> {
    const offending: string[] = [];
    await Promise.all(
      this.options.platformDatabases.map(async (database) => {
        const client = new Client(this.clientConfig(database));
        client.on('error', () => undefined);
        try {
          await client.connect();
          const { rows } = await client.query<{ schema: string; table: string; enabled: boolean; forced: boolean }>(RLS_SQL);
          for (const row of rows) {
            offending.push(`${database}.${row.schema}.${row.table} (${row.enabled ? 'not forced' : 'not enabled'})`);
          }
        } catch (error) {
          if ((error as { code?: string }).code === '3D000') {
            throw new ProvisionError(
              'PlatformDatabaseMissing',
              `The platform database ${database} does not exist on PostgreSQL ${this.address()}: shared-tier tenants live in ` +
                'it. Deploy the platform first, or fix RF_OPERATOR_POSTGRES_PLATFORM_DATABASES.',
              { cause: error },
            );
          }
          throw this.adminError(error, `checking Row-Level Security in ${database}`);
        } finally {
          await client.end().catch(() => undefined);
        }
      }),
    );
    if (offending.length) {
      throw new ProvisionError(
        'RowLevelSecurityMissing',
        `Tables with a tenant_id column lack forced Row-Level Security, so shared-tier tenants are not isolated: ` +
          `${list(offending.sort())}. Run ALTER TABLE ... ENABLE ROW LEVEL SECURITY and ... FORCE ROW LEVEL SECURITY ` +
          '(with a tenant policy) in the migrations of the services that own them.',
      );
    }
  }

  /** A connection to `database` on the admin's server, as the admin or with the given (tenant) credentials. */
  private clientConfig(database: string, login?: { user: string; password: string }): ClientConfig {
    const url = new URL(this.options.adminUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    if (login) {
      url.username = encodeURIComponent(login.user);
      url.password = encodeURIComponent(login.password);
    }
    return {
      connectionString: url.toString(),
      connectionTimeoutMillis: this.connectTimeoutMs,
      query_timeout: this.requestTimeoutMs,
      application_name: APPLICATION_NAME,
    };
  }

  private address(): string {
    return `${this.admin.hostname}:${this.admin.port || '5432'}`;
  }

  private adminError(error: unknown, what: string): ProvisionError {
    const code = (error as { code?: string }).code;
    const cause = describeCause(error);
    if (isConnectionError(error) || code === '57P03' || code === '53300' || code === '57P01') {
      return new ProvisionError(
        'PostgresUnavailable',
        `PostgreSQL at ${this.address()} is unreachable while ${what} (${cause}). Check that it runs and that the ` +
          'operator can reach it (RF_OPERATOR_POSTGRES_ADMIN_URL); the operator retries with backoff.',
        { cause: error },
      );
    }
    if (code === '28P01' || code === '28000') {
      return new ProvisionError(
        'PostgresAdminLoginFailed',
        `PostgreSQL at ${this.address()} refused the operator's admin login while ${what} (${cause}). Fix the credentials ` +
          'in RF_OPERATOR_POSTGRES_ADMIN_URL.',
        { cause: error },
      );
    }
    if (code === '42501') {
      return new ProvisionError(
        'PostgresAdminPrivilegeMissing',
        `The operator's PostgreSQL role lacks a privilege while ${what} (${cause}). It needs to be a superuser: ` +
          'tenant database owners get BYPASSRLS (as the platform\'s do), which only a superuser may grant.',
        { cause: error },
      );
    }
    return new ProvisionError('PostgresError', `PostgreSQL failed while ${what}: ${cause}.`, { cause: error });
  }

  private tenantLoginError(error: unknown, role: string, database: string): ProvisionError {
    const code = (error as { code?: string }).code;
    const cause = describeCause(error);
    if (code === '28P01') {
      return new ProvisionError(
        'DatabaseLoginFailed',
        `PostgreSQL refused the tenant's password for role ${database} (${cause}). The operator sets it again on its ` +
          'next resync; if this persists, the credentials Secret and the role disagree: rotate the credentials.',
        { cause: error },
      );
    }
    if (code === '28000') {
      return new ProvisionError(
        'DatabaseLoginRefused',
        `PostgreSQL refused role ${database} a session in its database (${cause}). Check pg_hba.conf admits ` +
          'password logins from the operator and the tenant workloads.',
        { cause: error },
      );
    }
    if (code === '3D000' || code === '42501') {
      return new ProvisionError(
        'DatabaseConnectRevoked',
        `Role ${role} cannot open its database ${database} (${cause}); the operator restores it on its next resync.`,
        { cause: error },
      );
    }
    return this.adminError(error, `logging in as tenant role ${role}`);
  }
}

function tenantDatabases(target: TenantTarget, passwords: TenantPasswords | undefined): TenantDatabase[] {
  const postgres = passwords?.postgres;
  const missing = DATA_SERVICES.filter((service) => !postgres?.[service]);
  if (!postgres || missing.length) {
    throw new ProvisionError(
      'CredentialsMissing',
      `No PostgreSQL password for the ${missing.join(', ')} database(s) of dedicated tenant ${target.tenantId}: ` +
        'the credentials Secret is incomplete. The operator generates new ones when the Secret lacks them.',
    );
  }
  return DATA_SERVICES.map((service) => ({
    service,
    ...tenantDatabaseRoles(target.tenantId, service),
    ownerPassword: postgres[service],
    appPassword: runtimeRolePassword(postgres[service]),
  }));
}

function roleNames(databases: Array<{ owner: string; app: string }>): string[] {
  return databases.flatMap((db) => [db.owner, db.app]);
}

interface RoleKind {
  label: string;
  bypassrls: boolean;
  inherit: boolean;
  attributes: string;
}

const OWNER_ROLE: RoleKind = {
  label: 'owner',
  bypassrls: true,
  inherit: true,
  attributes: 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS INHERIT CONNECTION LIMIT -1',
};
const APP_ROLE: RoleKind = {
  label: 'runtime role',
  bypassrls: false,
  inherit: false,
  attributes: 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT CONNECTION LIMIT -1',
};

function roleFindings(
  row: ObservedRole,
  kind: RoleKind,
  password: string,
  verifiers: Map<string, string | null> | undefined,
  suspended: boolean,
  mode: 'ensure' | 'verify',
): Finding[] {
  const role = row.name;
  const attributes = `${suspended ? 'NOLOGIN' : 'LOGIN'} ${kind.attributes}`;
  const passwordClause = `PASSWORD ${escapeLiteral(scramSha256Verifier(password) ?? password)}`;
  if (!row.exists) {
    return [{ reason: 'DatabaseRoleMissing', detail: `role ${role} does not exist`, repair: [`CREATE ROLE ${ident(role)} WITH ${attributes} ${passwordClause}`] }];
  }
  const findings: Finding[] = [];
  const drift: string[] = [];
  if (row.rolcanlogin === suspended) drift.push(suspended ? 'can log in although the tenant is suspended' : 'cannot log in');
  if (row.rolsuper) drift.push('is a superuser');
  if (row.rolcreatedb) drift.push('may create databases');
  if (row.rolcreaterole) drift.push('may create roles');
  if (row.rolreplication) drift.push('may replicate');
  if (row.rolbypassrls !== kind.bypassrls) drift.push(kind.bypassrls ? 'does not bypass Row-Level Security' : 'bypasses Row-Level Security');
  if (row.rolinherit !== kind.inherit) drift.push(kind.inherit ? 'does not inherit' : 'inherits privileges');
  if (row.rolconnlimit !== -1) drift.push(`has a connection limit of ${row.rolconnlimit}`);
  if (!row.valid_forever) drift.push('has a password expiry');
  if (drift.length) {
    findings.push({
      reason: 'DatabaseRoleDrift',
      detail: `${kind.label} ${role} ${drift.join(', ')}`,
      repair: [`ALTER ROLE ${ident(role)} WITH ${attributes} VALID UNTIL 'infinity'`],
    });
  }
  // Unreadable verifiers: ensure always sets the password, verify leaves it to the tenant's own login.
  const stored = verifiers?.get(role);
  if (verifiers ? !postgresPasswordMatches(stored, password, role) : mode === 'ensure') {
    findings.push({
      reason: 'DatabasePasswordDrift',
      detail: verifiers ? `role ${role} has a different password than the credentials Secret` : `role ${role}'s password cannot be checked`,
      repair: [`ALTER ROLE ${ident(role)} WITH ${passwordClause}`],
    });
  }
  for (const database of row.foreign_grants) {
    findings.push({
      reason: 'DatabaseGrantDrift',
      detail: `role ${role} has privileges on database ${database}`,
      repair: [`REVOKE ALL ON DATABASE ${ident(database)} FROM ${ident(role)} CASCADE`],
    });
  }
  for (const m of row.memberships) {
    findings.push({
      reason: 'DatabaseRoleMembershipDrift',
      detail: `role ${m.member} is a member of ${m.role}`,
      repair: [`REVOKE ${ident(m.role)} FROM ${ident(m.member)} CASCADE`],
    });
  }
  return findings;
}

function databaseFindings(row: ObservedDatabase, db: TenantDatabase, rolesExist: boolean): Finding[] {
  const name = db.database;
  if (!row.exists) {
    if (!rolesExist) return []; // created once its roles exist (the next pass)
    // A new database lets PUBLIC connect until that is revoked: created closed to connections, opened only once
    // PUBLIC's grant is gone, so no other tenant's role can get in between the two statements. (Interrupted halfway,
    // the next pass finds the grant and the closed database, and repairs them in that order.)
    return [{
      reason: 'DatabaseMissing',
      detail: `database ${name} does not exist`,
      repair: [
        `CREATE DATABASE ${ident(name)} OWNER ${ident(db.owner)} ALLOW_CONNECTIONS false`,
        `REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`,
        `ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS true`,
      ],
    }];
  }
  const findings: Finding[] = [];
  if (row.owner !== db.owner && rolesExist) {
    findings.push({ reason: 'DatabaseOwnerDrift', detail: `database ${name} is owned by ${row.owner}`, repair: [`ALTER DATABASE ${ident(name)} OWNER TO ${ident(db.owner)}`] });
  }
  const acl = row.acl ?? [];
  const held = (grantee: string) => new Set(acl.filter((a) => a.grantee === grantee).map((a) => a.privilege));
  const others = [...new Set(acl.filter((a) => a.grantee !== row.owner && a.grantee !== db.app).map((a) => a.grantee))];
  for (const grantee of others) {
    findings.push({
      reason: 'DatabaseGrantDrift',
      detail: `${grantee === null ? 'PUBLIC' : `role ${grantee}`} has ${acl.filter((a) => a.grantee === grantee).map((a) => a.privilege).join(', ')} on database ${name}`,
      repair: [`REVOKE ALL ON DATABASE ${ident(name)} FROM ${grantee === null ? 'PUBLIC' : ident(grantee)} CASCADE`],
    });
  }
  // Last: a closed database is opened only after every foreign grant above was taken back.
  if (!row.datallowconn) {
    findings.push({ reason: 'DatabaseConnectionsDisabled', detail: `database ${name} does not allow connections`, repair: [`ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS true`] });
  }
  if (row.owner === db.owner) {
    const lacking = ['CONNECT', 'CREATE', 'TEMPORARY'].filter((p) => !held(db.owner).has(p));
    if (lacking.length) {
      findings.push({ reason: 'DatabaseGrantDrift', detail: `owner ${db.owner} lacks ${lacking.join(', ')} on its database`, repair: [`GRANT ALL ON DATABASE ${ident(name)} TO ${ident(db.owner)}`] });
    }
  }
  if (rolesExist) {
    const app = [...held(db.app)];
    if (app.length !== 1 || app[0] !== 'CONNECT') {
      findings.push({
        reason: 'DatabaseGrantDrift',
        detail: `runtime role ${db.app} has ${app.length ? app.join(', ') : 'no privilege'} on database ${name} (wanted CONNECT only)`,
        repair: [`REVOKE ALL ON DATABASE ${ident(name)} FROM ${ident(db.app)} CASCADE`, `GRANT CONNECT ON DATABASE ${ident(name)} TO ${ident(db.app)}`],
      });
    }
  }
  return findings;
}

/** What differs inside a database; `ensure` then applies the whole (idempotent) schemaRepair. */
function schemaFindings(db: TenantDatabase, schema: ObservedSchema): Finding[] {
  const drift: string[] = [];
  if (schema.schema_owner !== db.owner) drift.push(`schema public is owned by ${schema.schema_owner}`);
  if (!schema.app_usage) drift.push(`${db.app} may not use schema public`);
  if (schema.app_create) drift.push(`${db.app} may create in schema public`);
  if (schema.tables_missing.length) drift.push(`${db.app} lacks ${APP_TABLE_PRIVILEGES} on ${list(schema.tables_missing)}`);
  if (schema.sequences_missing.length) drift.push(`${db.app} lacks USAGE on sequences ${list(schema.sequences_missing)}`);
  if (!schema.default_grants) drift.push(`tables ${db.owner} creates are not granted to ${db.app} by default`);
  if (schema.app_owns.length) drift.push(`${db.app} owns ${list(schema.app_owns)}`);
  return drift.length ? [{ reason: 'DatabaseSchemaPrivilegeDrift', detail: `in database ${db.database}: ${drift.join('; ')}`, repair: [] }] : [];
}

/** The schema-level grants of a tenant database, as tools/infra/postgres.ts gives the platform's (idempotent). */
function schemaRepair(db: TenantDatabase): string[] {
  const o = ident(db.owner);
  const a = ident(db.app);
  return [
    'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
    `ALTER SCHEMA public OWNER TO ${o}`,
    `REVOKE CREATE ON SCHEMA public FROM ${a}`,
    `GRANT USAGE ON SCHEMA public TO ${a}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT ${APP_TABLE_PRIVILEGES} ON TABLES TO ${a}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT ${APP_SEQUENCE_PRIVILEGES} ON SEQUENCES TO ${a}`,
    // SECURITY DEFINER lookups run as the owner: only the runtime role may call them, not every login.
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${a}`,
    `GRANT ${APP_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO ${a}`,
    `GRANT ${APP_SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO ${a}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${a}`,
    // What the runtime role created when someone let it: migrations own the schema.
    `REASSIGN OWNED BY ${a} TO ${o}`,
  ];
}

function findingsError(findings: Finding[]): ProvisionError {
  const first = findings[0]!;
  const more = findings.length > 1 ? `; also: ${list(findings.slice(1).map((f) => f.detail))}` : '';
  return new ProvisionError(
    first.reason,
    `PostgreSQL is not as the tenant needs it: ${first.detail}${more}. The operator repairs this on its next resync; ` +
      'if it comes back, something else is changing these grants.',
  );
}

function list(items: string[]): string {
  return items.length <= MAX_LISTED ? items.join(', ') : `${items.slice(0, MAX_LISTED).join(', ')} and ${items.length - MAX_LISTED} more`;
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN'].includes(code)) return true;
  const message = errorMessage(error);
  return /timeout|Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}
