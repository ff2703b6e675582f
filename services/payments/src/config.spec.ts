import { ConfigError } from '@rallyforge/service-kit';
import { loadPaymentsConfig } from './config';

const base = {
  PORT: '0',
  DATABASE_URL: 'postgres://payments:secret@127.0.0.1:5432/payments',
  AMQP_URL: 'amqp://127.0.0.1:5672',
  AUTH_JWKS_URL: 'http://127.0.0.1:3001/.well-known/jwks.json',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadPaymentsConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadPaymentsConfig', () => {
  it('accepts dev-instant in development and test', () => {
    expect(loadPaymentsConfig({ ...base, NODE_ENV: 'development', PAYMENT_PROVIDER: 'dev-instant' }).PAYMENT_PROVIDER).toBe('dev-instant');
    expect(loadPaymentsConfig({ ...base, NODE_ENV: 'test', PAYMENT_PROVIDER: 'dev-instant' }).PAYMENT_PROVIDER).toBe('dev-instant');
  });

  it('refuses dev-instant in production, naming PAYMENT_PROVIDER and the fix', () => {
    const error = refusal({ ...base, NODE_ENV: 'production', PAYMENT_PROVIDER: 'dev-instant' });
    expect(error.problems).toEqual([expect.objectContaining({ variable: 'PAYMENT_PROVIDER' })]);
    expect(error.message).toContain('PAYMENT_PROVIDER=dev-instant');
    expect(error.message).toContain('NODE_ENV is "production"');
    expect(error.message).toContain('PAYMENT_PROVIDER=stripe');
  });

  it('refuses dev-instant when NODE_ENV is unset (the kit defaults it to production)', () => {
    expect(refusal({ ...base, PAYMENT_PROVIDER: 'dev-instant' }).problems[0]?.variable).toBe('PAYMENT_PROVIDER');
  });

  it('requires PAYMENT_PROVIDER and names the allowed values', () => {
    const error = refusal({ ...base, NODE_ENV: 'development' });
    expect(error.message).toContain('PAYMENT_PROVIDER: expected one of dev-instant, stripe, got nothing');
    expect(refusal({ ...base, NODE_ENV: 'development', PAYMENT_PROVIDER: 'paypal' }).message).toContain('got "paypal"');
  });

  it('refuses stripe until its provider exists', () => {
    expect(refusal({ ...base, NODE_ENV: 'production', PAYMENT_PROVIDER: 'stripe' }).message).toContain('PAYMENT_PROVIDER=stripe is not implemented yet');
  });

  it('requires REDIS_URL: the API rate limits count in Redis, or checkout would be unlimited', () => {
    const { REDIS_URL: _omitted, ...withoutRedis } = base;
    const error = refusal({ ...withoutRedis, NODE_ENV: 'test', PAYMENT_PROVIDER: 'dev-instant' });
    expect(error.problems).toEqual([expect.objectContaining({ variable: 'REDIS_URL' })]);
  });
});
