import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Commands, PLATFORM_TENANT } from '@rallyforge/contracts';
import { createLogger, loadConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { createEnvironment, GOOD_PASSWORD, startAuth, uniqueOrg, type AuthEnvironment, type RunningAuth } from '@rallyforge/auth/test/auth-harness';
import { claimsConfigSchema } from '@rallyforge/claims/src/config';
import { startClaimsService } from '@rallyforge/claims/src/claims.app';
import { CLAIMS_ENTITIES } from '@rallyforge/claims/src/entities/claims-entities';
import { CLAIMS_MIGRATIONS } from '@rallyforge/claims/src/migrations/claims-migrations';
import { documentsConfigSchema } from '@rallyforge/documents/src/config';
import { startDocumentsService } from '@rallyforge/documents/src/documents.app';
import { DOCUMENTS_ENTITIES } from '@rallyforge/documents/src/entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from '@rallyforge/documents/src/migrations/documents-migrations';
import { loadPaymentsConfig } from '@rallyforge/payments/src/config';
import { startPaymentsService } from '@rallyforge/payments/src/payments.app';
import { PAYMENTS_ENTITIES } from '@rallyforge/payments/src/entities/payments-entities';
import { PAYMENTS_MIGRATIONS } from '@rallyforge/payments/src/migrations/payments-migrations';
import { loadRealtimeConfig } from '@rallyforge/realtime/src/config';
import { startRealtimeService } from '@rallyforge/realtime/src/realtime.app';
import { Client } from 'pg';
import { startMailCatcher, type MailCatcher } from '../platform/mail-catcher';
import { freshDatabase } from './infra';

/**
 * The five services booted in-process from source, as production wires them: each with its own fresh database
 * (migrated as the owner role, served as the runtime role under Row-Level Security), one fresh vhost, the shared
 * test Redis, and auth issuing real EdDSA tokens that the others verify through its JWKS. No gateway: suites that
 * need nginx use tools/platform/stack.ts (startIsolatedStack) instead.
 */

export const SERVICES = ['auth', 'claims', 'payments', 'documents', 'realtime'] as const;
export type ServiceName = (typeof SERVICES)[number];
/** The services with a database of their own besides auth. */
export type DataServiceName = 'claims' | 'payments' | 'documents';

/** Response bodies are asserted field by field; typing each one would only restate the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse {
  status: number;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: Json;
  /** The raw body. */
  text: string;
  headers: Headers;
}

export interface ApiRequest {
  token?: string;
  /** A JSON body (serialised here) or a raw body (sent as is, with the content-type of `headers`). */
  body?: unknown;
  raw?: Buffer | string;
  headers?: Record<string, string>;
}

/** A registered user of an organisation. */
export interface Account {
  org: string;
  email: string;
  password: string;
  id: string;
  role: string;
}

/** A user of an organisation, logged in. */
export interface Member extends Account {
  token: string;
  refreshToken: string;
}

export interface InProcessPlatformOptions {
  /** Extra settings of the auth service (see services/auth/test/auth-harness.ts for its test defaults). */
  auth?: Record<string, string>;
  /** Extra settings of every other service. */
  services?: Record<string, string>;
  /**
   * Where calls come from. `loopback` (default): 127.0.0.1, like every other test file, so per-address limits are
   * shared with them (the test settings raise those limits). `random`: each call without its own X-Forwarded-For
   * sends a fresh documentation address (2001:db8::/32; loopback is a trusted proxy), so a suite can run with the
   * production limits without counting other suites' requests or its own fixtures.
   */
  clientAddresses?: 'loopback' | 'random';
  /** Run a mail catcher and send auth's e-mail to it (`platform.mail`), for flows that need the e-mailed tokens. */
  mail?: boolean;
}

export interface InProcessPlatform {
  readonly env: AuthEnvironment;
  readonly auth: RunningAuth;
  readonly apps: Readonly<Record<ServiceName, NestFastifyApplication>>;
  /** Base URLs (http://127.0.0.1:<port>) of the running services. */
  readonly urls: Readonly<Record<ServiceName, string>>;
  /** SQL as the owner of each database (it bypasses Row-Level Security: fixtures and assertions only). */
  readonly sql: Readonly<Record<'auth' | DataServiceName, Client>>;
  readonly storageDir: string;
  /** The e-mail auth sent, when started with `mail: true`. */
  readonly mail?: MailCatcher;
  /** One HTTP call to a service; `path` is absolute (`/api/v1/claims/…`, `/health/ready`). */
  call(service: ServiceName, method: string, path: string, request?: ApiRequest): Promise<ApiResponse>;
  /** A new organisation, created the way the operator does it (auth.organisation.upsert over the bus). */
  organisation(label: string, options?: { registration?: 'open' | 'invite' }): Promise<string>;
  /** A registered user of `org` who never logged in (no attempt counted against login limits yet). */
  account(org: string, label: string, role?: 'veteran' | 'representative' | 'org_admin'): Promise<Account>;
  /** A registered, logged-in user of `org`; roles other than veteran are granted as an administrator would. */
  member(org: string, label: string, role?: 'veteran' | 'representative' | 'org_admin'): Promise<Member>;
  close(): Promise<void>;
}

/** The longest a test call may wait for its answer. */
export const CALL_TIMEOUT_MS = 30_000;

const OPERATOR = { kind: 'service' as const, id: 'operator', roles: [] };
const silent = () => createLogger({ service: 'in-process-platform', level: 'silent' });

/** Boots the platform; `label` names its databases and vhost. Call `close()` in afterAll. */
export async function startInProcessPlatform(label: string, options: InProcessPlatformOptions = {}): Promise<InProcessPlatform> {
  const cleanup: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const step of cleanup) await step().catch(() => undefined);
  };
  try {
    return await boot(label, options, cleanup, close);
  } catch (error) {
    await close();
    throw error;
  }
}

async function boot(
  label: string,
  options: InProcessPlatformOptions,
  cleanup: Array<() => Promise<unknown>>,
  close: () => Promise<void>,
): Promise<InProcessPlatform> {
  const env = await createEnvironment(`${label}_auth`);
  cleanup.push(() => env.drop());
  const mail = options.mail ? await startMailCatcher({ port: 0 }) : undefined;
  if (mail) cleanup.push(() => mail.close());
  const auth = await startAuth(env, { ...(mail ? { SMTP_URL: mail.url } : {}), ...options.auth });
  cleanup.unshift(() => auth.close());

  const sql = { auth: env.sql } as Record<'auth' | DataServiceName, Client>;
  const serviceDatabase = async (name: DataServiceName, entities: unknown[], migrations: unknown[]) => {
    const database = await freshDatabase(`${label}_${name}`);
    cleanup.push(() => database.drop());
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await runMigrations(postgresDataSourceOptions({ url: database.ownerUrl, entities: entities as any, migrations: migrations as any }), { logger: silent() });
    const client = new Client({ connectionString: database.ownerUrl });
    await client.connect();
    cleanup.unshift(() => client.end());
    sql[name] = client;
    return database;
  };

  const common = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    AMQP_URL: env.vhost.url,
    REDIS_URL: process.env.RF_TEST_REDIS_URL,
    AUTH_JWKS_URL: `${auth.url}/api/v1/auth/.well-known/jwks.json`,
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...options.services,
  };
  const started = (app: NestFastifyApplication) => {
    cleanup.unshift(() => app.close());
    return app;
  };

  const claimsDb = await serviceDatabase('claims', CLAIMS_ENTITIES, CLAIMS_MIGRATIONS);
  const claims = started(
    await startClaimsService(loadConfig(claimsConfigSchema, { ...common, DATABASE_URL: claimsDb.appUrl }), { handleSignals: false }),
  );
  const paymentsDb = await serviceDatabase('payments', PAYMENTS_ENTITIES, PAYMENTS_MIGRATIONS);
  const payments = started(
    await startPaymentsService(loadPaymentsConfig({ ...common, DATABASE_URL: paymentsDb.appUrl, PAYMENT_PROVIDER: 'dev-instant' }), {
      handleSignals: false,
    }),
  );
  const storageDir = await mkdtemp(join(tmpdir(), `rf-${label}-`));
  cleanup.push(() => rm(storageDir, { recursive: true, force: true }));
  const documentsDb = await serviceDatabase('documents', DOCUMENTS_ENTITIES, DOCUMENTS_MIGRATIONS);
  const documents = started(
    await startDocumentsService(
      loadConfig(documentsConfigSchema, { ...common, DATABASE_URL: documentsDb.appUrl, STORAGE_DRIVER: 'local', STORAGE_LOCAL_DIR: storageDir }),
      { handleSignals: false },
    ),
  );
  const realtime = started(await startRealtimeService(loadRealtimeConfig(common), { handleSignals: false }));

  const apps = { auth: auth.app, claims, payments, documents, realtime };
  const urls = {} as Record<ServiceName, string>;
  for (const name of SERVICES) urls[name] = (await apps[name].getUrl()).replace('[::1]', '127.0.0.1');

  const call = async (service: ServiceName, method: string, path: string, request: ApiRequest = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...request.headers };
    if (options.clientAddresses === 'random' && !Object.keys(headers).some((name) => name.toLowerCase() === 'x-forwarded-for')) {
      headers['x-forwarded-for'] = randomClientAddress();
    }
    let body: string | Buffer | undefined;
    if (request.raw !== undefined) body = request.raw;
    else if (request.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(request.body);
    }
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    // Bounded: a request the server never answers fails the test that sent it instead of stalling the file.
    const response = await fetch(`${urls[service]}${path}`, { method, headers, body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    const text = await response.text();
    let parsed: Json;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text, headers: response.headers };
  };

  const organisation = async (name: string, orgOptions: { registration?: 'open' | 'invite' } = {}): Promise<string> => {
    const org = uniqueOrg(name);
    const reply = await env.bus.request<Json>(
      Commands.upsertOrganisation,
      { tenantId: org, displayName: `Org ${name}`, registration: orgOptions.registration ?? 'open', admins: [], suspended: false },
      { tenantId: PLATFORM_TENANT, actor: OPERATOR, timeoutMs: 15_000 },
    );
    if (!reply) throw new Error(`auth.organisation.upsert of ${org} got no reply`);
    return org;
  };

  const account = async (org: string, name: string, role: 'veteran' | 'representative' | 'org_admin' = 'veteran'): Promise<Account> => {
    const email = `${name}-${randomUUID().slice(0, 8)}@example.org`;
    const registered = await call('auth', 'POST', '/api/v1/auth/register', { body: { organisation: org, email, password: GOOD_PASSWORD } });
    if (registered.status !== 201) throw new Error(`Registering ${email} in ${org} answered ${registered.status}: ${registered.text}`);
    const id = registered.body.id as string;
    // Staff roles are given by an administrator (an invitation); for fixtures the database owner sets the role.
    if (role !== 'veteran') await env.sql.query('UPDATE users SET role = $1 WHERE id = $2', [role, id]);
    return { org, email, password: GOOD_PASSWORD, id, role };
  };

  const member = async (org: string, name: string, role: 'veteran' | 'representative' | 'org_admin' = 'veteran'): Promise<Member> => {
    const created = await account(org, name, role);
    const login = await call('auth', 'POST', '/api/v1/auth/login', { body: { organisation: org, email: created.email, password: created.password } });
    if (login.status !== 200) throw new Error(`Logging ${created.email} in answered ${login.status}: ${login.text}`);
    return { ...created, token: login.body.accessToken, refreshToken: login.body.refreshToken };
  };

  return { env, auth, apps, urls, sql, storageDir, mail, call, organisation, account, member, close };
}

/** A fresh address of the IPv6 documentation prefix (2001:db8::/32): never a real client, never seen twice. */
export function randomClientAddress(): string {
  const groups = randomBytes(12).toString('hex').match(/.{4}/g)!;
  return `2001:db8:${groups.join(':')}`;
}

/** Polls `check` until it returns something truthy; throws, naming `what`, when the time is up. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
