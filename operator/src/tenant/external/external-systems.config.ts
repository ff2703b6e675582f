import { z } from 'zod';

/** Every connect to an external system gives up after this long: a down server must show, never hang. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Statements and HTTP calls of the admin connections give up after this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/** The platform's databases and vhost as `npm run up` creates them (tools/platform/stack.ts, name `rf`). */
export const DEFAULT_PLATFORM_DATABASES = ['rf_auth', 'rf_claims', 'rf_payments', 'rf_documents'];
export const DEFAULT_PLATFORM_VHOST = 'rf';

/**
 * Where the operator reaches PostgreSQL, RabbitMQ and Redis as an administrator, and what it writes into tenants'
 * connection strings. The admin credentials are the operator's own; tenants never see them.
 */
export interface ExternalSystemsConfig {
  postgres: {
    /** postgres://admin:password@host:port/postgres: a role with CREATEROLE and CREATEDB (a superuser lets it read
     * password verifiers and skip rewriting unchanged passwords). */
    adminUrl: string;
    /** Base of the tenants' DATABASE_URLs (scheme, host, port, query such as sslmode): no credentials, no path. */
    tenantUrl: string;
    /** The platform's databases, checked for Row-Level Security for the shared tier. */
    platformDatabases: string[];
  };
  rabbitmq: {
    /** http(s)://host:port of the management plugin. */
    managementUrl: string;
    adminUser: string;
    adminPassword: string;
    /** amqp(s)://host:port where the operator proves the tenant's login (no credentials). */
    amqpUrl: string;
    /** Base of the tenants' AMQP_URL: no credentials, no vhost. */
    tenantUrl: string;
    /** The shared tier's vhost. */
    platformVhost: string;
  };
  redis: {
    /** redis(s)://user:password@host:port/db of an admin (ACL SETUSER, SCAN, UNLINK). */
    adminUrl: string;
    /** Base of the tenants' REDIS_URL: no credentials. */
    tenantUrl: string;
  };
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The environment variables, with what each must look like (shown after "expected" in errors). */
export const EXTERNAL_SYSTEMS_ENV = {
  RF_OPERATOR_POSTGRES_ADMIN_URL: 'a postgres:// URL with an admin user and password, e.g. postgres://admin:pw@postgres:5432/postgres',
  RF_OPERATOR_POSTGRES_TENANT_URL: 'a postgres:// URL without credentials that tenant workloads use, e.g. postgres://postgres.db.svc:5432?sslmode=require (default: the admin URL\'s host and port)',
  RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: `a comma-separated list of database names (default: ${DEFAULT_PLATFORM_DATABASES.join(',')})`,
  RF_OPERATOR_RABBITMQ_MANAGEMENT_URL: 'an http(s):// URL of the RabbitMQ management API, e.g. http://rabbitmq:15672',
  RF_OPERATOR_RABBITMQ_ADMIN_USER: 'the name of a RabbitMQ user tagged administrator',
  RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: "that user's password",
  RF_OPERATOR_RABBITMQ_AMQP_URL: 'an amqp(s):// URL where the operator reaches the broker, e.g. amqp://rabbitmq:5672 (default: the management host on port 5672)',
  RF_OPERATOR_RABBITMQ_TENANT_URL: 'an amqp(s):// URL without credentials that tenant workloads use (default: RF_OPERATOR_RABBITMQ_AMQP_URL)',
  RF_OPERATOR_RABBITMQ_PLATFORM_VHOST: `the vhost of the shared tier (default: ${DEFAULT_PLATFORM_VHOST})`,
  RF_OPERATOR_REDIS_ADMIN_URL: 'a redis(s):// URL of an admin user, e.g. redis://default:pw@redis:6379/0',
  RF_OPERATOR_REDIS_TENANT_URL: "a redis(s):// URL without credentials that tenant workloads use (default: the admin URL's host, port and db)",
  RF_OPERATOR_EXTERNAL_CONNECT_TIMEOUT_MS: `an integer of milliseconds between 100 and 120000 (default: ${DEFAULT_CONNECT_TIMEOUT_MS})`,
  RF_OPERATOR_EXTERNAL_REQUEST_TIMEOUT_MS: `an integer of milliseconds between 100 and 600000 (default: ${DEFAULT_REQUEST_TIMEOUT_MS})`,
} as const;

type EnvName = keyof typeof EXTERNAL_SYSTEMS_ENV;

/** Thrown by `loadExternalSystemsConfig`: one line per bad variable, so a single restart fixes them all. */
export class ExternalSystemsConfigError extends Error {
  override readonly name = 'ExternalSystemsConfigError';

  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid external-systems configuration (${problems.length} ${problems.length === 1 ? 'variable' : 'variables'}); ` +
        `fix the operator's environment and restart:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

const SECRET_VARIABLE = /PASSWORD/;

function url(protocols: readonly string[], options: { credentials: 'required' | 'forbidden' | 'any' }) {
  return z.string().superRefine((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not a URL' });
      return;
    }
    if (!protocols.includes(parsed.protocol)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `has scheme ${parsed.protocol} (allowed: ${protocols.join(' ')})` });
    }
    if (!parsed.hostname) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'has no host' });
    if (options.credentials === 'required' && (!parsed.username || !parsed.password)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'has no user and password' });
    }
    if (options.credentials === 'forbidden' && (parsed.username || parsed.password)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'carries credentials; tenants get their own' });
    }
  });
}

const millis = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v), z.number().int().min(min).max(max));

const identifierList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((names) => names.length > 0 && names.every((n) => /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(n)), {
    message: 'contains a name that is not a database name',
  });

const schema = z.object({
  RF_OPERATOR_POSTGRES_ADMIN_URL: url(['postgres:', 'postgresql:'], { credentials: 'required' }),
  RF_OPERATOR_POSTGRES_TENANT_URL: url(['postgres:', 'postgresql:'], { credentials: 'forbidden' }).optional(),
  RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: identifierList.optional(),
  RF_OPERATOR_RABBITMQ_MANAGEMENT_URL: url(['http:', 'https:'], { credentials: 'forbidden' }),
  RF_OPERATOR_RABBITMQ_ADMIN_USER: z.string().min(1),
  RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: z.string().min(1),
  RF_OPERATOR_RABBITMQ_AMQP_URL: url(['amqp:', 'amqps:'], { credentials: 'any' }).optional(),
  RF_OPERATOR_RABBITMQ_TENANT_URL: url(['amqp:', 'amqps:'], { credentials: 'forbidden' }).optional(),
  RF_OPERATOR_RABBITMQ_PLATFORM_VHOST: z.string().min(1).max(255).optional(),
  RF_OPERATOR_REDIS_ADMIN_URL: url(['redis:', 'rediss:'], { credentials: 'any' }),
  RF_OPERATOR_REDIS_TENANT_URL: url(['redis:', 'rediss:'], { credentials: 'forbidden' }).optional(),
  RF_OPERATOR_EXTERNAL_CONNECT_TIMEOUT_MS: millis(100, 120_000).optional(),
  RF_OPERATOR_EXTERNAL_REQUEST_TIMEOUT_MS: millis(100, 600_000).optional(),
});

/**
 * Reads and validates the external systems' settings from the environment. Empty variables count as unset.
 * Throws ExternalSystemsConfigError naming every bad variable, without echoing secrets.
 */
export function loadExternalSystemsConfig(env: Record<string, string | undefined> = process.env): ExternalSystemsConfig {
  const input: Partial<Record<EnvName, string>> = {};
  for (const name of Object.keys(EXTERNAL_SYSTEMS_ENV) as EnvName[]) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') input[name] = value.trim();
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = new Map<string, string>();
    for (const issue of result.error.issues) {
      const name = String(issue.path[0]) as EnvName;
      if (problems.has(name)) continue;
      const why = issue.code === z.ZodIssueCode.custom ? issue.message : `is not valid (${issue.message.toLowerCase()})`;
      const got = input[name] === undefined ? 'it is not set' : `got ${shown(name, input[name] as string)}, which ${why}`;
      problems.set(name, `${name}: expected ${EXTERNAL_SYSTEMS_ENV[name]}; ${got}`);
    }
    throw new ExternalSystemsConfigError([...problems.values()]);
  }
  const e = result.data;
  const management = new URL(e.RF_OPERATOR_RABBITMQ_MANAGEMENT_URL);
  const amqpUrl = baseUrl(e.RF_OPERATOR_RABBITMQ_AMQP_URL ?? `amqp://${management.hostname}:5672`, { keepPath: false });
  return {
    postgres: {
      adminUrl: e.RF_OPERATOR_POSTGRES_ADMIN_URL,
      tenantUrl: baseUrl(e.RF_OPERATOR_POSTGRES_TENANT_URL ?? e.RF_OPERATOR_POSTGRES_ADMIN_URL, { keepPath: false }),
      platformDatabases: e.RF_OPERATOR_POSTGRES_PLATFORM_DATABASES ?? DEFAULT_PLATFORM_DATABASES,
    },
    rabbitmq: {
      managementUrl: `${management.protocol}//${management.host}${management.pathname.replace(/\/+$/, '')}`,
      adminUser: e.RF_OPERATOR_RABBITMQ_ADMIN_USER,
      adminPassword: e.RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD,
      amqpUrl,
      tenantUrl: baseUrl(e.RF_OPERATOR_RABBITMQ_TENANT_URL ?? amqpUrl, { keepPath: false }),
      platformVhost: e.RF_OPERATOR_RABBITMQ_PLATFORM_VHOST ?? DEFAULT_PLATFORM_VHOST,
    },
    redis: {
      adminUrl: e.RF_OPERATOR_REDIS_ADMIN_URL,
      tenantUrl: baseUrl(e.RF_OPERATOR_REDIS_TENANT_URL ?? e.RF_OPERATOR_REDIS_ADMIN_URL, { keepPath: true }),
    },
    connectTimeoutMs: e.RF_OPERATOR_EXTERNAL_CONNECT_TIMEOUT_MS ?? DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: e.RF_OPERATOR_EXTERNAL_REQUEST_TIMEOUT_MS ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}

/** A URL without credentials (and without its path unless `keepPath`, for Redis's db number), query kept. */
function baseUrl(value: string, options: { keepPath: boolean }): string {
  const u = new URL(value);
  u.username = '';
  u.password = '';
  if (!options.keepPath) u.pathname = '';
  return u.toString().replace(/\/$/, '');
}

function shown(name: string, value: string): string {
  if (SECRET_VARIABLE.test(name)) return `a value of ${value.length} characters`;
  let text = value;
  try {
    const u = new URL(value);
    if (u.password) {
      u.password = '***';
      text = u.toString();
    }
  } catch {
    // not a URL: shown as is
  }
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
