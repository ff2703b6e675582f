import { accessSync, chownSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureDir, loadSecrets, PORTS, STATE_DIR } from './config';
import { postgresBinDir } from './packages';
import { isPortOpen, isRoot, mustRun, run, waitFor } from './process';

export const PG_SUPERUSER = 'rallyforge';

const dataDir = () => join(STATE_DIR, 'postgres', 'data');
const socketDir = () => join(STATE_DIR, 'postgres', 'run');
const logFile = () => join(STATE_DIR, 'logs', 'postgres.log');

/** PostgreSQL refuses to run as root, so as root we run it as Debian's `postgres` user. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export function postgresAdminUrl(database = 'postgres'): string {
  const { postgresPassword } = loadSecrets();
  return `postgres://${PG_SUPERUSER}:${encodeURIComponent(postgresPassword)}@127.0.0.1:${PORTS.postgres}/${database}`;
}

function initDataDir(bin: string): void {
  const { postgresPassword } = loadSecrets();
  ensureDir(join(STATE_DIR, 'postgres'));
  ensureDir(socketDir());
  const pwDir = mkdtempSync(join(tmpdir(), 'rf-pg-'));
  const pwFile = join(pwDir, 'pw');
  writeFileSync(pwFile, postgresPassword, { mode: 0o600 });
  if (isRoot()) {
    const uid = Number(mustRun('id', ['-u', 'postgres']).trim());
    const gid = Number(mustRun('id', ['-g', 'postgres']).trim());
    for (const path of [join(STATE_DIR, 'postgres'), socketDir(), pwDir, pwFile]) chownSync(path, uid, gid);
    const reachable = run('runuser', ['-u', 'postgres', '--', 'test', '-w', join(STATE_DIR, 'postgres')]);
    if (reachable.status !== 0) {
      throw new Error(
        `The postgres user cannot write ${join(STATE_DIR, 'postgres')} (a parent folder is not traversable). ` +
          `Move the checkout under a world-traversable path or set RF_STATE_DIR to one.`,
      );
    }
  }
  try {
    const [cmd, args] = asServerUser(join(bin, 'initdb'), [
      '-D', dataDir(), '-U', PG_SUPERUSER, `--pwfile=${pwFile}`, '--auth-host=scram-sha-256',
      '--auth-local=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8',
    ]);
    mustRun(cmd, args);
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
  // Local-development tuning: synchronous_commit=off trades the last few milliseconds of commits on an OS crash
  // for throughput (no corruption risk); enough connections for five services plus parallel test files.
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${PORTS.postgres}`,
    `unix_socket_directories = '${socketDir()}'`,
    `max_connections = 300`,
    `shared_buffers = 256MB`,
    `synchronous_commit = off`,
    `log_min_duration_statement = 1000`,
  ].join('\n');
  writeFileSync(join(dataDir(), 'postgresql.auto.conf'), `${conf}\n`);
  if (isRoot()) {
    const uid = Number(mustRun('id', ['-u', 'postgres']).trim());
    chownSync(join(dataDir(), 'postgresql.auto.conf'), uid, -1);
  }
}

async function canLogIn(): Promise<boolean> {
  const client = new Client({ connectionString: postgresAdminUrl(), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts PostgreSQL from .rallyforge/postgres (initialising it the first time); a no-op when it already runs. */
export async function ensurePostgres(log: (msg: string) => void): Promise<void> {
  if (await isPortOpen(PORTS.postgres)) {
    if (await canLogIn()) return;
    throw new Error(
      `Port ${PORTS.postgres} is taken by a PostgreSQL we cannot log in to (another checkout?). ` +
        `Stop it, or set RF_PG_PORT to a free port.`,
    );
  }
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin.');
  if (!existsSync(join(dataDir(), 'PG_VERSION'))) {
    log('initialising PostgreSQL data directory');
    initDataDir(bin);
  }
  ensureDir(join(STATE_DIR, 'logs'));
  // pg_ctl's log file must be writable by the server user.
  if (!existsSync(logFile())) writeFileSync(logFile(), '');
  if (isRoot()) chownSync(logFile(), Number(mustRun('id', ['-u', 'postgres']).trim()), -1);
  try {
    accessSync(socketDir(), constants.F_OK);
  } catch {
    ensureDir(socketDir());
  }
  const [cmd, args] = asServerUser(join(bin, 'pg_ctl'), ['-D', dataDir(), '-l', logFile(), '-w', '-t', '60', 'start']);
  const result = run(cmd, args);
  if (result.status !== 0) {
    const tail = existsSync(logFile()) ? readFileSync(logFile(), 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new Error(`PostgreSQL failed to start:\n${result.stderr || result.stdout}\n${tail}`);
  }
  await waitFor('PostgreSQL to accept logins', canLogIn, 30_000, `See ${logFile()}.`);
}

export function stopPostgres(): void {
  const bin = postgresBinDir();
  if (!bin || !existsSync(join(dataDir(), 'postmaster.pid'))) return;
  const [cmd, args] = asServerUser(join(bin, 'pg_ctl'), ['-D', dataDir(), '-m', 'fast', '-w', 'stop']);
  run(cmd, args);
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Invalid PostgreSQL identifier "${name}"`);
  return `"${name}"`;
};
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Creates (or updates the password of) a login role and a database it owns; idempotent. Returns its URL. */
export async function ensureDatabase(
  database: string,
  role: string,
  password: string,
  adminUrl = postgresAdminUrl(),
): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await upsertRole(admin, role, password, '');
    const dbExists = await admin.query('select 1 from pg_database where datname = $1', [database]);
    await createClosedToPublic(admin, database, role, Boolean(dbExists.rowCount));
  } finally {
    await admin.end();
  }
  return roleUrl(adminUrl, role, password, database);
}

/** A login role's name and password. */
export interface DatabaseLogin {
  role: string;
  password: string;
}

export interface ServiceDatabase {
  /** The owner role's URL: migrations (and test fixtures) only. */
  ownerUrl: string;
  /** The runtime role's URL: what the service connects with (DATABASE_URL). */
  appUrl: string;
}

/**
 * Attributes of the two roles of a service database (docs/adr/0005-row-level-security.md).
 * - owner: owns the database, its schema objects and the SECURITY DEFINER lookups; runs migrations. BYPASSRLS so
 *   that data migrations and those narrowly scoped functions see every tenant's rows; never used by a service.
 * - app: what the service connects with. Owns nothing, cannot bypass Row-Level Security, creates nothing.
 */
export const OWNER_ROLE_ATTRIBUTES = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS';
export const APP_ROLE_ATTRIBUTES = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT';

/** Table privileges the runtime role gets on every table the owner creates, now and in later migrations. */
export const APP_TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
export const APP_SEQUENCE_PRIVILEGES = 'USAGE, SELECT';

/**
 * Creates (or brings up to date) a service database with its two login roles; idempotent, also for a database
 * that an older version created with a single owning role (that role becomes the owner, the runtime role is
 * added and granted what exists). Tables created later by the owner (migrations) are granted to the runtime role
 * through `ALTER DEFAULT PRIVILEGES FOR ROLE <owner>`, so no migration needs to know the runtime role's name.
 */
export async function ensureServiceDatabase(
  database: string,
  owner: DatabaseLogin,
  app: DatabaseLogin,
  adminUrl = postgresAdminUrl(),
): Promise<ServiceDatabase> {
  if (owner.role === app.role) throw new Error(`The owner and runtime roles of ${database} must differ (both are "${owner.role}")`);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await upsertRole(admin, owner.role, owner.password, OWNER_ROLE_ATTRIBUTES);
    await upsertRole(admin, app.role, app.password, APP_ROLE_ATTRIBUTES);
    const dbExists = await admin.query('select 1 from pg_database where datname = $1', [database]);
    await createClosedToPublic(admin, database, owner.role, Boolean(dbExists.rowCount));
    await admin.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(app.role)}`);
  } finally {
    await admin.end();
  }
  // Schema-level grants are per database: connect to it (still as the administrator).
  const adminOfDatabase = new URL(adminUrl);
  adminOfDatabase.pathname = `/${database}`;
  const db = new Client({ connectionString: adminOfDatabase.toString() });
  await db.connect();
  try {
    const o = ident(owner.role);
    const a = ident(app.role);
    for (const statement of [
      // PostgreSQL 15 already refuses CREATE in public to PUBLIC; older servers did not.
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
      `ALTER SCHEMA public OWNER TO ${o}`,
      `GRANT USAGE ON SCHEMA public TO ${a}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT ${APP_TABLE_PRIVILEGES} ON TABLES TO ${a}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT ${APP_SEQUENCE_PRIVILEGES} ON SEQUENCES TO ${a}`,
      // SECURITY DEFINER lookups run as the owner: only the runtime role may call them, not every login.
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${a}`,
      // What an earlier run (or a single-role version of this database) created before the defaults existed.
      `GRANT ${APP_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO ${a}`,
      `GRANT ${APP_SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA public TO ${a}`,
      `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${a}`,
    ]) {
      await db.query(statement);
    }
  } finally {
    await db.end();
  }
  return {
    ownerUrl: roleUrl(adminUrl, owner.role, owner.password, database),
    appUrl: roleUrl(adminUrl, app.role, app.password, database),
  };
}

async function upsertRole(admin: Client, role: string, password: string, attributes: string): Promise<void> {
  const roleExists = await admin.query('select 1 from pg_roles where rolname = $1', [role]);
  const verb = roleExists.rowCount ? 'ALTER' : 'CREATE';
  await admin.query(`${verb} ROLE ${ident(role)} LOGIN ${attributes} PASSWORD ${literal(password)}`.replace(/ {2,}/g, ' '));
}

function roleUrl(adminUrl: string, role: string, password: string, database: string): string {
  const { hostname, port } = new URL(adminUrl);
  return `postgres://${role}:${encodeURIComponent(password)}@${hostname}:${port}/${database}`;
}

/** Drops a database and its roles (runtime role first), ending any session still connected. */
export async function dropDatabase(
  database: string,
  role?: string | readonly string[],
  adminUrl = postgresAdminUrl(),
): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
    for (const name of role === undefined ? [] : typeof role === 'string' ? [role] : role) {
      await admin.query(`DROP ROLE IF EXISTS ${ident(name)}`);
    }
  } finally {
    await admin.end();
  }
}

/**
 * Creates `database` (unless it exists) so that PUBLIC can never connect to it: CREATE DATABASE grants PUBLIC CONNECT
 * until a REVOKE takes it back, so the database is created closed to connections and opened after the REVOKE (as the
 * operator's provisioner does for tenant databases).
 */
async function createClosedToPublic(admin: Client, database: string, owner: string, exists: boolean): Promise<void> {
  if (!exists) await admin.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(owner)} ALLOW_CONNECTIONS false`);
  await admin.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
  await admin.query(`ALTER DATABASE ${ident(database)} ALLOW_CONNECTIONS true`);
}
