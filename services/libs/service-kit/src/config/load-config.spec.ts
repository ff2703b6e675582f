import { z } from 'zod';
import { baseConfigSchema } from './base-config.schema';
import { envInt } from './env';
import { ConfigError, describeValue, loadConfig } from './load-config';

const validEnv = {
  DATABASE_URL: 'postgres://claims:secret@localhost:54329/claims',
  REDIS_URL: 'redis://localhost:63799',
  AMQP_URL: 'amqp://guest:guest@localhost:56729',
  AUTH_JWKS_URL: 'http://localhost:3001/api/v1/auth/.well-known/jwks.json',
};

function problemsOf(env: Record<string, string | undefined>, schema = baseConfigSchema): string[] {
  try {
    loadConfig(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((problem) => problem.message);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(baseConfigSchema, validEnv);
    expect(config).toMatchObject({
      NODE_ENV: 'production',
      PORT: 3000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      AUTH_ISSUER: 'rallyforge-auth',
      AUTH_AUDIENCE: 'rallyforge',
      CORS_ORIGINS: [],
      BODY_LIMIT_BYTES: 1048576,
      SHUTDOWN_TIMEOUT_MS: 20000,
      OTEL_TRACES_EXPORTER: 'none',
    });
  });

  it('parses numbers and the CORS allow-list', () => {
    const config = loadConfig(baseConfigSchema, {
      ...validEnv,
      PORT: '3002',
      BODY_LIMIT_BYTES: '2048',
      CORS_ORIGINS: 'https://app.rallyforge.org, http://localhost:5173',
    });
    expect(config.PORT).toBe(3002);
    expect(config.BODY_LIMIT_BYTES).toBe(2048);
    expect(config.CORS_ORIGINS).toEqual(['https://app.rallyforge.org', 'http://localhost:5173']);
  });

  it('treats empty strings as unset, so defaults apply', () => {
    expect(loadConfig(baseConfigSchema, { ...validEnv, PORT: '', LOG_LEVEL: '  ' }).PORT).toBe(3000);
  });

  it('names every missing variable with what is expected', () => {
    expect(problemsOf({})).toEqual([
      'DATABASE_URL: expected a postgres:// URL, got nothing',
      'REDIS_URL: expected a redis:// or rediss:// URL, got nothing',
      'AMQP_URL: expected an amqp:// or amqps:// URL, got nothing',
      'AUTH_JWKS_URL: expected an http(s):// URL of the auth service JWKS, got nothing',
    ]);
  });

  it('names bad values, with what was found', () => {
    expect(
      problemsOf({
        ...validEnv,
        PORT: 'eighty',
        NODE_ENV: 'prod',
        CORS_ORIGINS: '*',
        REDIS_URL: 'http://localhost:6379',
        SHUTDOWN_TIMEOUT_MS: '-1',
      }),
    ).toEqual([
      'NODE_ENV: expected one of development, test, production, got "prod"',
      'PORT: expected an integer between 0 and 65535, got "eighty"',
      'REDIS_URL: expected a redis:// or rediss:// URL, got "http://localhost:6379"',
      'CORS_ORIGINS: expected a comma-separated list of origins such as https://app.example.org (no wildcard, no path), got "*"',
      'SHUTDOWN_TIMEOUT_MS: expected an integer of at least 0, got "-1"',
    ]);
  });

  it('puts all problems in one message', () => {
    expect(() => loadConfig(baseConfigSchema, { ...validEnv, PORT: 'x', DATABASE_URL: undefined })).toThrow(
      /Invalid configuration \(2 variables\)[^]*\n {2}PORT: expected an integer[^]*\n {2}DATABASE_URL: expected a postgres/,
    );
  });

  it('never echoes credentials', () => {
    const [message] = problemsOf({ ...validEnv, DATABASE_URL: 'mysql://app:hunter2@db/claims' });
    expect(message).toBe('DATABASE_URL: expected a postgres:// URL, got "mysql://app:***@db/claims"');
    expect(describeValue('STRIPE_SECRET_KEY', 'sk_live_123')).toBe('a value of 11 characters');
  });

  it('lets services extend and omit', () => {
    const schema = baseConfigSchema.omit({ DATABASE_URL: true }).extend({
      UPLOAD_MAX_BYTES: envInt({ min: 1, max: Number.MAX_SAFE_INTEGER, default: 10 * 1024 * 1024 }),
      STORAGE_DRIVER: z.enum(['local']).describe('local'),
    });
    const { DATABASE_URL: _omitted, ...env } = validEnv;
    expect(problemsOf(env, schema as never)).toEqual(['STORAGE_DRIVER: expected local, got nothing']);
    expect(loadConfig(schema, { ...env, STORAGE_DRIVER: 'local' }).UPLOAD_MAX_BYTES).toBe(10485760);
  });
});
