import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { RequestContext, currentTraceId } from '../context/request-context';

export const REDACTED = '[REDACTED]';

/**
 * Keys whose values never reach a log line: credentials and personal data (the seed's "no passwords, emails in
 * logs"). Matched at any of the first four levels of a logged object (`password`, `body.password`,
 * `req.headers.authorization`, `a.b.c.email`).
 */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'secret',
  'clientSecret',
  'apiKey',
  'privateKey',
  'email',
  'phone',
  'phoneNumber',
  'ssn',
  'dateOfBirth',
] as const;

const REDACT_DEPTH = 4;

/** PostgreSQL errors put offending values in `detail` ("Key (email)=(a@b.org) already exists"). */
const EXTRA_REDACT_PATHS = ['err.detail', 'error.detail', 'err.parameters', 'error.parameters'];

/** The pino redact paths for `keys` at every depth up to REDACT_DEPTH. */
export function redactPaths(keys: readonly string[] = REDACTED_KEYS): string[] {
  const paths: string[] = [];
  for (const key of keys) {
    const accessor = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    for (let depth = 0; depth < REDACT_DEPTH; depth++) {
      const prefix = '*.'.repeat(depth);
      paths.push(accessor.startsWith('[') ? `${prefix.slice(0, -1)}${accessor}` : `${prefix}${accessor}`);
    }
  }
  return [...paths, ...EXTRA_REDACT_PATHS];
}

export interface CreateLoggerOptions {
  service: string;
  level?: string;
  /** Extra keys to redact, on top of REDACTED_KEYS. */
  redactKeys?: readonly string[];
  /** Where lines go; stdout when omitted (tests pass a stream to read them). */
  destination?: DestinationStream;
}

/**
 * The service's root pino logger: JSON lines with `service`, and from the request context `requestId`,
 * `tenantId`, `userId` and `traceId`. The trace id is read from the span active at log time, so bus handlers
 * and background work get theirs too.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactPaths([...REDACTED_KEYS, ...(options.redactKeys ?? [])]), censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    mixin: contextFields,
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

function contextFields(): Record<string, string> {
  const context = RequestContext.current();
  const fields: Record<string, string> = {};
  const traceId = currentTraceId() ?? context?.traceId;
  if (context?.requestId) fields.requestId = context.requestId;
  if (context?.tenantId) fields.tenantId = context.tenantId;
  if (context?.userId) fields.userId = context.userId;
  if (traceId) fields.traceId = traceId;
  return fields;
}
