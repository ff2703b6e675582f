import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DATABASE_SERVICES, ensureDir, loadSecrets, REPO_ROOT, saveSecrets, SERVICES, ServiceName, servicePassword,
} from '../infra/config';
import { ensureServiceDatabase, ensureVhost, redisAdminUrl } from '../infra';
import { mustRun, run, sleep, waitFor } from '../infra/process';
import { MAIL_CATCHER_PID_NAME } from './mail-catcher';

export interface StackOptions {
  /** Prefix of databases, roles and the vhost: `rf` for `npm run up`, a unique one per test run. */
  name: string;
  ports: Record<ServiceName, number>;
  /** Where logs and uploaded documents go. */
  dir: string;
  nodeEnv?: 'development' | 'test';
  logLevel?: string;
  corsOrigins?: string[];
  /** Extra variables per service, applied last (tests relax limits that count per address on the shared Redis). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}

export type ServiceEnv = Record<ServiceName, Record<string, string>>;

const TELEMETRY_PRELOAD = join(REPO_ROOT, 'services', 'libs', 'service-kit', 'dist', 'telemetry', 'register.js');

function keyEncryptionKey(): string {
  const secrets = loadSecrets();
  const key = 'auth-key-encryption-key';
  if (!secrets.servicePasswords[key]) {
    secrets.servicePasswords[key] = randomBytes(32).toString('base64');
    saveSecrets(secrets);
  }
  return secrets.servicePasswords[key];
}

/** The runtime role of database `db` (the owner role is named like the database). */
export const appRoleOf = (db: string): string => `${db}_app`;

/**
 * Creates each service's database with its owner and runtime roles and the vhost, and returns each service's
 * environment: DATABASE_URL is the runtime role (Row-Level Security applies to it), MIGRATION_DATABASE_URL the
 * owner (read by `dist/migrate.js` only).
 */
export async function provisionStack(o: StackOptions): Promise<ServiceEnv> {
  const secrets = loadSecrets();
  const amqpUrl = await ensureVhost(o.name);
  const databaseUrls: Partial<Record<ServiceName, string>> = {};
  const migrationUrls: Partial<Record<ServiceName, string>> = {};
  for (const s of DATABASE_SERVICES) {
    const db = `${o.name}_${s}`;
    const { ownerUrl, appUrl } = await ensureServiceDatabase(
      db,
      { role: db, password: servicePassword(secrets, db) },
      { role: appRoleOf(db), password: servicePassword(secrets, appRoleOf(db)) },
    );
    databaseUrls[s] = appUrl;
    migrationUrls[s] = ownerUrl;
  }
  const documentsDir = ensureDir(join(o.dir, 'documents'));
  const common = (s: ServiceName): Record<string, string> => ({
    NODE_ENV: o.nodeEnv ?? 'development',
    SERVICE_NAME: s,
    HOST: '127.0.0.1',
    PORT: String(o.ports[s]),
    LOG_LEVEL: o.logLevel ?? 'info',
    REDIS_URL: redisAdminUrl(),
    AMQP_URL: amqpUrl,
    AUTH_JWKS_URL: `http://127.0.0.1:${o.ports.auth}/api/v1/auth/.well-known/jwks.json`,
    AUTH_ISSUER: 'rallyforge-auth',
    AUTH_AUDIENCE: 'rallyforge',
    CORS_ORIGINS: (o.corsOrigins ?? ['http://localhost:8080', 'http://127.0.0.1:8080']).join(','),
    OTEL_TRACES_EXPORTER: process.env.OTEL_TRACES_EXPORTER ?? 'none',
    ...(databaseUrls[s] ? { DATABASE_URL: databaseUrls[s] as string, MIGRATION_DATABASE_URL: migrationUrls[s] as string } : {}),
  });
  const env = {} as ServiceEnv;
  for (const s of SERVICES) env[s] = common(s);
  env.auth.AUTH_KEY_ENCRYPTION_KEY = keyEncryptionKey();
  env.documents.STORAGE_DRIVER = 'local';
  env.documents.STORAGE_LOCAL_DIR = documentsDir;
  env.payments.PAYMENT_PROVIDER = 'dev-instant';
  for (const s of SERVICES) Object.assign(env[s], o.env?.[s]);
  return env;
}

/** Builds the libraries and services with Nx (cached: a no-op when nothing changed). */
export function buildServices(log: (msg: string) => void): void {
  const started = Date.now();
  const result = run('npx', ['nx', 'run-many', '-t', 'build', '--projects=tag:type:service', '--output-style=static'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
  });
  if (result.status !== 0) throw new Error(`Build failed:\n${(result.stdout + result.stderr).slice(-4000)}`);
  log(`services built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The environment of a running service: everything but the owner role's URL, which only migrations get. */
export function runtimeEnv(env: ServiceEnv, s: ServiceName): Record<string, string> {
  const { MIGRATION_DATABASE_URL: _owner, ...rest } = env[s];
  return rest;
}

export function runMigrations(env: ServiceEnv, log: (msg: string) => void): void {
  for (const s of DATABASE_SERVICES) {
    const script = join(REPO_ROOT, 'services', s, 'dist', 'migrate.js');
    if (!existsSync(script)) throw new Error(`${script} is missing: the ${s} build did not produce its migration runner.`);
    const result = run(process.execPath, [script], { env: { ...process.env, ...env[s], LOG_LEVEL: 'warn' }, cwd: REPO_ROOT });
    if (result.status !== 0) throw new Error(`Migrations of ${s} failed:\n${result.stderr || result.stdout}`);
  }
  log('migrations applied');
}

const COLOURS: Record<ServiceName, number> = { auth: 35, claims: 36, payments: 33, documents: 34, realtime: 32 };
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

/** Turns one pino JSON line into a short, readable, prefixed console line. */
export function formatLogLine(service: string, line: string, colour = 0): string {
  const prefix = colour ? `\x1b[${colour}m[${service.padEnd(9)}]\x1b[0m` : `[${service.padEnd(9)}]`;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = LEVELS[Number(entry.level)] ?? String(entry.level ?? '');
    const { msg, time: _t, level: _l, pid: _p, hostname: _h, service: _s, ...rest } = entry;
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${prefix} ${level} ${String(msg ?? '')}${extra.length > 400 ? extra.slice(0, 400) + '…' : extra}`;
  } catch {
    return `${prefix} ${line}`;
  }
}

export interface RunningService {
  name: ServiceName;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * Starts each service as a child process (telemetry preloaded before anything it instruments), its output in
 * .rallyforge/logs/<service>.log and, when `console` is set, pretty-printed with a coloured prefix.
 */
export function startServices(env: ServiceEnv, o: StackOptions, console?: (line: string) => void): RunningService[] {
  const logDir = ensureDir(join(o.dir, 'logs'));
  return SERVICES.map((name) => {
    const main = join(REPO_ROOT, 'services', name, 'dist', 'main.js');
    const args = existsSync(TELEMETRY_PRELOAD) ? ['-r', TELEMETRY_PRELOAD, main] : [main];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...runtimeEnv(env, name) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        file.write(`${line}\n`);
        console?.(formatLogLine(name, line, COLOURS[name]));
      });
    }
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
      file.end();
      resolve(code);
    }));
    return { name, child, exited };
  });
}

export async function waitForReady(o: StackOptions, services: RunningService[], timeoutMs = 90_000): Promise<void> {
  for (const s of SERVICES) {
    const svc = services.find((x) => x.name === s);
    await waitFor(`${s} to become ready (GET /health/ready)`, async () => {
      if (svc && svc.child.exitCode !== null) {
        throw new Error(`${s} exited with code ${svc.child.exitCode} during start-up; see ${join(o.dir, 'logs', `${s}.log`)}.`);
      }
      try {
        const res = await fetch(`http://127.0.0.1:${o.ports[s]}/health/ready`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      } catch {
        return false;
      }
    }, timeoutMs, `See ${join(o.dir, 'logs', `${s}.log`)}.`);
  }
}

/** SIGTERM every service (they drain), then SIGKILL whatever is left after the bound. */
export async function stopServices(services: RunningService[], boundMs = 30_000): Promise<void> {
  for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  const all = Promise.all(services.map((s) => s.exited));
  const timedOut = await Promise.race([all.then(() => false), sleep(boundMs).then(() => true)]);
  if (timedOut) for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
}

/** For `npm run up --detach` / `npm run down`: pids of detached services. */
export function writePidFile(dir: string, name: string, pid: number): void {
  writeFileSync(join(ensureDir(join(dir, 'run')), `${name}.pid`), String(pid));
}

export function killPidFiles(dir: string, signal: NodeJS.Signals = 'SIGTERM'): number[] {
  const runDir = join(dir, 'run');
  const pids: number[] = [];
  for (const s of [...SERVICES, MAIL_CATCHER_PID_NAME]) {
    const file = join(runDir, `${s}.pid`);
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').trim());
    try {
      process.kill(pid, signal);
      pids.push(pid);
    } catch {
      // already gone
    }
    rmSync(file, { force: true });
  }
  return pids;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export { mustRun };

export interface IsolatedStack {
  /** The gateway's base URL. */
  baseUrl: string;
  env: ServiceEnv;
  options: StackOptions;
  stop(): Promise<void>;
}

/**
 * The whole platform as `npm run up` runs it (same provisioning, build, migrations and process runner) on its own
 * databases, vhost, ports and gateway, for the end-to-end tests and the bench. `stop()` stops it and drops its data.
 */
export async function startIsolatedStack(options: StackOptions & { gatewayPort?: number }, log: (msg: string) => void = () => undefined): Promise<IsolatedStack> {
  // Loaded here to keep stack.ts free of an import cycle with gateway.ts.
  const { startGateway, stopGateway } = await import('./gateway');
  const { deleteVhost, dropDatabase } = await import('../infra');
  const gateway = { dir: join(options.dir, 'gateway'), logDir: join(options.dir, 'logs'), port: options.gatewayPort ?? 0, upstreams: options.ports };
  let services: RunningService[] = [];
  const stop = async () => {
    await stopServices(services);
    if (options.gatewayPort !== undefined) stopGateway(gateway.dir);
    for (const s of DATABASE_SERVICES) {
      const db = `${options.name}_${s}`;
      await dropDatabase(db, [appRoleOf(db), db]).catch(() => undefined);
    }
    await deleteVhost(options.name).catch(() => undefined);
  };
  try {
    buildServices(log);
    const env = await provisionStack(options);
    runMigrations(env, log);
    services = startServices(env, options);
    await waitForReady(options, services);
    // Without a gatewayPort (the operator bench needs the services, not nginx), baseUrl is auth's own.
    if (options.gatewayPort !== undefined) await startGateway(gateway);
    return { baseUrl: `http://127.0.0.1:${options.gatewayPort ?? options.ports.auth}`, env, options, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
