import { ConfigError } from '@rallyforge/service-kit';
import { randomBytes } from 'node:crypto';
import { AUTH_DEFAULTS, loadAuthConfig } from './config';

const base = {
  DATABASE_URL: 'postgres://auth:secret@127.0.0.1:5432/auth',
  REDIS_URL: 'redis://127.0.0.1:6379',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672/%2F',
};

describe('loadAuthConfig', () => {
  it('applies the defaults (15-minute access tokens, 7-day refresh tokens, 8-character passwords)', () => {
    const config = loadAuthConfig({ ...base, NODE_ENV: 'test' });
    expect(config.ACCESS_TOKEN_TTL_SECONDS).toBe(AUTH_DEFAULTS.accessTokenTtlSeconds);
    expect(config.ACCESS_TOKEN_TTL_SECONDS).toBe(900);
    expect(config.REFRESH_TOKEN_TTL_SECONDS).toBe(7 * 24 * 3600);
    expect(config.PASSWORD_MIN_LENGTH).toBe(8);
    expect(config.AUTH_ISSUER).toBe('rallyforge-auth');
    expect(config.AUTH_AUDIENCE).toBe('rallyforge');
  });

  it('needs no AUTH_JWKS_URL: auth verifies with its own keys', () => {
    expect(() => loadAuthConfig({ ...base, NODE_ENV: 'development' })).not.toThrow();
  });

  it('requires AUTH_KEY_ENCRYPTION_KEY in production, and says how to make one', () => {
    expect(() => loadAuthConfig({ ...base, NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadAuthConfig({ ...base, NODE_ENV: 'production' })).toThrow(/openssl rand -base64 32/);
    expect(() =>
      loadAuthConfig({
        ...base,
        NODE_ENV: 'production',
        AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        SMTP_URL: 'smtp://mail.example.org:587',
      }),
    ).not.toThrow();
  });

  it('requires SMTP_URL in production, says what it is for, and never echoes its password', () => {
    const production = { ...base, NODE_ENV: 'production', AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    expect(() => loadAuthConfig(production)).toThrow(/SMTP_URL: required when NODE_ENV is production/);
    expect(() => loadAuthConfig({ ...production, SMTP_URL: 'smtps://mailer:hunter2@mail.example.org:465' })).not.toThrow();
    let error: unknown;
    try {
      loadAuthConfig({ ...production, SMTP_URL: 'http://mailer:hunter2@mail.example.org' });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toMatch(/SMTP_URL: expected an smtp:\/\/ or smtps:\/\/ URL/);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('sends e-mail tokens valid one hour and allows 3 mail requests an hour by default; SMTP is optional in development', () => {
    const config = loadAuthConfig({ ...base, NODE_ENV: 'development' });
    expect(config.SMTP_URL).toBeUndefined();
    expect(config.EMAIL_TOKEN_TTL_SECONDS).toBe(3600);
    expect(config.MAIL_REQUEST_LIMIT).toBe(3);
    expect(config.MAIL_REQUEST_WINDOW_SECONDS).toBe(3600);
  });

  it('refuses a key-encryption key that is not 32 bytes, without echoing it', () => {
    const key = randomBytes(16).toString('base64');
    let error: unknown;
    try {
      loadAuthConfig({ ...base, NODE_ENV: 'production', AUTH_KEY_ENCRYPTION_KEY: key });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('AUTH_KEY_ENCRYPTION_KEY');
    expect((error as Error).message).not.toContain(key);
  });

  it('refuses a grace period shorter than the access-token lifetime', () => {
    expect(() =>
      loadAuthConfig({ ...base, NODE_ENV: 'test', ACCESS_TOKEN_TTL_SECONDS: '3600', SIGNING_KEY_GRACE_SECONDS: '600' }),
    ).toThrow(/SIGNING_KEY_GRACE_SECONDS/);
  });

  it('refuses a prepublish window as long as the rotation period', () => {
    expect(() =>
      loadAuthConfig({
        ...base,
        NODE_ENV: 'test',
        SIGNING_KEY_ROTATION_SECONDS: '7200',
        SIGNING_KEY_PREPUBLISH_SECONDS: '7200',
      }),
    ).toThrow(/SIGNING_KEY_PREPUBLISH_SECONDS/);
  });

  it('does not allow a minimum password length below the policy', () => {
    expect(() => loadAuthConfig({ ...base, NODE_ENV: 'test', PASSWORD_MIN_LENGTH: '6' })).toThrow(/PASSWORD_MIN_LENGTH/);
  });
});
