import { DEFAULT_PLATFORM_DATABASES, ExternalSystemsConfigError, loadExternalSystemsConfig } from './external-systems.config';

const MINIMAL = {
  RF_OPERATOR_POSTGRES_ADMIN_URL: 'postgres://admin:pg-secret@postgres.db:5432/postgres?sslmode=require',
  RF_OPERATOR_RABBITMQ_MANAGEMENT_URL: 'http://rabbitmq.mq:15672/',
  RF_OPERATOR_RABBITMQ_ADMIN_USER: 'operator',
  RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: 'rabbit-secret',
  RF_OPERATOR_REDIS_ADMIN_URL: 'redis://default:redis-secret@redis.cache:6379/2',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadExternalSystemsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ExternalSystemsConfigError);
    return [...(error as ExternalSystemsConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadExternalSystemsConfig', () => {
  it('derives the tenant-facing addresses from the admin ones, without credentials', () => {
    const config = loadExternalSystemsConfig(MINIMAL);
    expect(config.postgres).toEqual({
      adminUrl: MINIMAL.RF_OPERATOR_POSTGRES_ADMIN_URL,
      tenantUrl: 'postgres://postgres.db:5432?sslmode=require',
      platformDatabases: DEFAULT_PLATFORM_DATABASES,
    });
    expect(config.rabbitmq).toEqual({
      managementUrl: 'http://rabbitmq.mq:15672',
      adminUser: 'operator',
      adminPassword: 'rabbit-secret',
      amqpUrl: 'amqp://rabbitmq.mq:5672',
      tenantUrl: 'amqp://rabbitmq.mq:5672',
      platformVhost: 'rf',
    });
    expect(config.redis).toEqual({ adminUrl: MINIMAL.RF_OPERATOR_REDIS_ADMIN_URL, tenantUrl: 'redis://redis.cache:6379/2' });
    expect(config.connectTimeoutMs).toBe(5_000);
  });

  it('takes every optional setting, and treats empty variables as unset', () => {
    const config = loadExternalSystemsConfig({
      ...MINIMAL,
      RF_OPERATOR_POSTGRES_TENANT_URL: 'postgresql://pg.shared.svc:6432',
      RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: ' rf_auth , rf_claims ',
      RF_OPERATOR_RABBITMQ_AMQP_URL: 'amqps://user:pw@rabbit.internal:5671/%2F',
      RF_OPERATOR_RABBITMQ_TENANT_URL: 'amqps://rabbit.public:5671',
      RF_OPERATOR_RABBITMQ_PLATFORM_VHOST: 'platform',
      RF_OPERATOR_REDIS_TENANT_URL: 'rediss://redis.public:6380/0',
      RF_OPERATOR_EXTERNAL_CONNECT_TIMEOUT_MS: '2500',
      RF_OPERATOR_EXTERNAL_REQUEST_TIMEOUT_MS: '',
    });
    expect(config.postgres.tenantUrl).toBe('postgresql://pg.shared.svc:6432');
    expect(config.postgres.platformDatabases).toEqual(['rf_auth', 'rf_claims']);
    expect(config.rabbitmq.amqpUrl).toBe('amqps://rabbit.internal:5671');
    expect(config.rabbitmq.tenantUrl).toBe('amqps://rabbit.public:5671');
    expect(config.rabbitmq.platformVhost).toBe('platform');
    expect(config.redis.tenantUrl).toBe('rediss://redis.public:6380/0');
    expect(config.connectTimeoutMs).toBe(2_500);
    expect(config.requestTimeoutMs).toBe(15_000);
  });

  it('names every missing variable at once', () => {
    const lines = problems({});
    expect(lines.map((line) => line.split(':')[0]).sort()).toEqual([
      'RF_OPERATOR_POSTGRES_ADMIN_URL',
      'RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD',
      'RF_OPERATOR_RABBITMQ_ADMIN_USER',
      'RF_OPERATOR_RABBITMQ_MANAGEMENT_URL',
      'RF_OPERATOR_REDIS_ADMIN_URL',
    ]);
    expect(lines.find((l) => l.startsWith('RF_OPERATOR_POSTGRES_ADMIN_URL'))).toMatch(/expected a postgres:\/\/ URL .*; it is not set/);
  });

  it('says what is wrong with each bad value, and never echoes a secret', () => {
    const lines = problems({
      ...MINIMAL,
      RF_OPERATOR_POSTGRES_ADMIN_URL: 'mysql://admin:pg-secret@db:3306/x',
      RF_OPERATOR_POSTGRES_TENANT_URL: 'postgres://leaked:tenant-secret@db:5432',
      RF_OPERATOR_REDIS_ADMIN_URL: 'not a url',
      RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: ' ',
      RF_OPERATOR_EXTERNAL_CONNECT_TIMEOUT_MS: '5s',
      RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: 'rf_auth,drop table;',
    });
    const text = lines.join('\n');
    expect(text).toMatch(/RF_OPERATOR_POSTGRES_ADMIN_URL: expected .*has scheme mysql:/);
    expect(text).toMatch(/RF_OPERATOR_POSTGRES_TENANT_URL: .*carries credentials/);
    expect(text).toMatch(/RF_OPERATOR_REDIS_ADMIN_URL: .*is not a URL/);
    expect(text).toMatch(/RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: .*it is not set/);
    expect(text).toMatch(/RF_OPERATOR_EXTERNAL_CONNECT_TIMEOUT_MS: expected an integer of milliseconds/);
    expect(text).toMatch(/RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: .*not a database name/);
    expect(text).not.toContain('pg-secret');
    expect(text).not.toContain('tenant-secret');
  });
});
