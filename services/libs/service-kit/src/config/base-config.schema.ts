import { z } from 'zod';
import { envEnum, envInt, envOriginList, envUrl } from './env';
import { rateLimitConfigShape } from '../rate-limit/rate-limit.config';

/** Defaults of the common variables (docs/architecture.md, "Environment variables"). */
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_AUTH_ISSUER = 'rallyforge-auth';
export const DEFAULT_AUTH_AUDIENCE = 'rallyforge';
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const TRACES_EXPORTERS = ['none', 'otlp', 'console'] as const;

/**
 * The variables every service reads. Services add theirs with `baseConfigSchema.extend({...})`; a service that
 * has no database (realtime) or verifies tokens with a local key set (auth) drops the variable with
 * `.omit({ DATABASE_URL: true })`.
 */
export const baseConfigSchema = z.object({
  /** `production` unless told otherwise, so that nothing development-only is ever switched on by accident. */
  NODE_ENV: envEnum(['development', 'test', 'production'], 'production'),
  PORT: envInt({ min: 0, max: 65535, default: DEFAULT_PORT }),
  HOST: z.string().min(1).default(DEFAULT_HOST).describe('a host name or IP address to listen on'),
  /** Defaults to the `name` given to `bootstrapService`. */
  SERVICE_NAME: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .optional()
    .describe('a lower-case service name such as claims'),
  LOG_LEVEL: envEnum(LOG_LEVELS, 'info'),
  DATABASE_URL: envUrl(['postgres:', 'postgresql:'], 'a postgres:// URL'),
  REDIS_URL: envUrl(['redis:', 'rediss:'], 'a redis:// or rediss:// URL'),
  AMQP_URL: envUrl(['amqp:', 'amqps:'], 'an amqp:// or amqps:// URL'),
  AUTH_JWKS_URL: envUrl(['http:', 'https:'], 'an http(s):// URL of the auth service JWKS'),
  AUTH_ISSUER: z.string().min(1).default(DEFAULT_AUTH_ISSUER).describe('the issuer (iss) of access tokens'),
  AUTH_AUDIENCE: z.string().min(1).default(DEFAULT_AUTH_AUDIENCE).describe('the audience (aud) of access tokens'),
  CORS_ORIGINS: envOriginList(),
  BODY_LIMIT_BYTES: envInt({ min: 1, max: Number.MAX_SAFE_INTEGER, default: DEFAULT_BODY_LIMIT_BYTES }),
  SHUTDOWN_TIMEOUT_MS: envInt({ min: 0, max: Number.MAX_SAFE_INTEGER, default: DEFAULT_SHUTDOWN_TIMEOUT_MS }),
  OTEL_TRACES_EXPORTER: envEnum(TRACES_EXPORTERS, 'none'),
  /** Read by the OTLP exporter itself (it appends /v1/traces); http://localhost:4318 when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: envUrl(['http:', 'https:'], 'an http(s):// URL of an OTLP collector').optional(),
  /** RATE_LIMIT_*_PER_MINUTE, TRUSTED_PROXIES, REDIS_KEY_PREFIX (docs/security.md, "API security"). */
  ...rateLimitConfigShape,
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * What the kit itself reads from a service's configuration. The dependency URLs are optional here because a
 * service may omit them from its schema; the kit then refuses, with a message, to wire what needs them.
 */
export type KitConfig = Omit<BaseConfig, 'DATABASE_URL' | 'REDIS_URL' | 'AMQP_URL' | 'AUTH_JWKS_URL'> &
  Partial<Pick<BaseConfig, 'DATABASE_URL' | 'REDIS_URL' | 'AMQP_URL' | 'AUTH_JWKS_URL'>>;
