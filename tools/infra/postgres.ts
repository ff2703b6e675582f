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
    const roleExists = await admin.query('select 1 from pg_roles where rolname = $1', [role]);
    const verb = roleExists.rowCount ? 'ALTER' : 'CREATE';
    await admin.query(`${verb} ROLE ${ident(role)} LOGIN PASSWORD ${literal(password)}`);
    const dbExists = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (!dbExists.rowCount) await admin.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(role)}`);
    await admin.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
  } finally {
    await admin.end();
  }
  const { hostname, port } = new URL(adminUrl);
  return `postgres://${role}:${encodeURIComponent(password)}@${hostname}:${port}/${database}`;
}

/** Drops a database and its role, ending any session still connected. */
export async function dropDatabase(database: string, role?: string, adminUrl = postgresAdminUrl()): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
    if (role) await admin.query(`DROP ROLE IF EXISTS ${ident(role)}`);
  } finally {
    await admin.end();
  }
}
