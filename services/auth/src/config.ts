import { baseConfigSchema, ConfigError, ConfigProblem, envInt, envUrl, loadConfig } from '@rallyforge/service-kit';
import { z } from 'zod';
import { DEFAULT_PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH } from './utils/password-policy';
import { KEY_ENCRYPTION_KEY_BYTES, parseKeyEncryptionKey } from './utils/key-encryption';

export const SERVICE_NAME = 'auth';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Defaults of auth's own settings (seconds unless the name says otherwise). */
export const AUTH_DEFAULTS = {
  accessTokenTtlSeconds: 15 * MINUTE,
  refreshTokenTtlSeconds: 7 * DAY,
  signingKeyRotationSeconds: 30 * DAY,
  signingKeyPrepublishSeconds: DAY,
  signingKeyGraceSeconds: DAY,
  invitationTtlSeconds: 7 * DAY,
  /** E-mail verification and password reset links (seed checklist: single use, valid 1 hour). */
  emailTokenTtlSeconds: HOUR,
  /** Verification re-sends and password reset requests per account and window. */
  mailRequestLimit: 3,
  mailRequestWindowSeconds: HOUR,
  mailFrom: 'RallyForge <no-reply@rallyforge.local>',
  mailLinkBaseUrl: 'http://127.0.0.1:8080',
  smtpTimeoutMs: 10_000,
  /** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane (~tens of ms per hash on one core). */
  loginMaxFailures: 5,
  loginLockoutSeconds: 15 * MINUTE,
  argon2MemoryKib: 19 * 1024,
  argon2TimeCost: 2,
  argon2Parallelism: 1,
  /** Seed checklist: login rate limit, 5 attempts per 15 minutes, per client IP and per account. */
  loginRateLimitMaxPerIp: 5,
  loginRateLimitMaxPerAccount: 5,
  loginRateLimitWindowSeconds: 15 * MINUTE,
  mfaChallengeTtlSeconds: 5 * MINUTE,
} as const;

/**
 * Auth signs tokens and verifies them with its own key set, so it has no AUTH_JWKS_URL; it uses no AMQP-less mode
 * either: the outbox relay and the command handler need the broker.
 */
export const authConfigSchema = baseConfigSchema.omit({ AUTH_JWKS_URL: true }).extend({
  AUTH_KEY_ENCRYPTION_KEY: z
    .string()
    .optional()
    .refine((value) => value === undefined || Buffer.from(value, 'base64').length === KEY_ENCRYPTION_KEY_BYTES)
    .describe(`${KEY_ENCRYPTION_KEY_BYTES} random bytes in base64 (openssl rand -base64 32)`),
  ACCESS_TOKEN_TTL_SECONDS: envInt({ min: 60, max: DAY, default: AUTH_DEFAULTS.accessTokenTtlSeconds }),
  REFRESH_TOKEN_TTL_SECONDS: envInt({ min: 5 * MINUTE, max: 90 * DAY, default: AUTH_DEFAULTS.refreshTokenTtlSeconds }),
  SIGNING_KEY_ROTATION_SECONDS: envInt({ min: HOUR, max: 365 * DAY, default: AUTH_DEFAULTS.signingKeyRotationSeconds }),
  SIGNING_KEY_PREPUBLISH_SECONDS: envInt({ min: 0, max: 30 * DAY, default: AUTH_DEFAULTS.signingKeyPrepublishSeconds }),
  SIGNING_KEY_GRACE_SECONDS: envInt({ min: 60, max: 30 * DAY, default: AUTH_DEFAULTS.signingKeyGraceSeconds }),
  PASSWORD_MIN_LENGTH: envInt({ min: DEFAULT_PASSWORD_MIN_LENGTH, max: 128, default: DEFAULT_PASSWORD_MIN_LENGTH }),
  INVITATION_TTL_SECONDS: envInt({ min: HOUR, max: 90 * DAY, default: AUTH_DEFAULTS.invitationTtlSeconds }),
  /** Seed checklist: lock an account's logins after 5 failed attempts, for 15 minutes. */
  LOGIN_MAX_FAILURES: envInt({ min: 1, max: 1000, default: AUTH_DEFAULTS.loginMaxFailures }),
  LOGIN_LOCKOUT_SECONDS: envInt({ min: 1, max: DAY, default: AUTH_DEFAULTS.loginLockoutSeconds }),
  ARGON2_MEMORY_KIB: envInt({ min: 8 * 1024, max: 1024 * 1024, default: AUTH_DEFAULTS.argon2MemoryKib }),
  ARGON2_TIME_COST: envInt({ min: 1, max: 10, default: AUTH_DEFAULTS.argon2TimeCost }),
  ARGON2_PARALLELISM: envInt({ min: 1, max: 8, default: AUTH_DEFAULTS.argon2Parallelism }),
  /** Password-login attempts (successful or not) allowed per window, per client IP and per organisation + e-mail. */
  LOGIN_RATE_LIMIT_MAX_PER_IP: envInt({ min: 1, max: 1_000_000, default: AUTH_DEFAULTS.loginRateLimitMaxPerIp }),
  LOGIN_RATE_LIMIT_MAX_PER_ACCOUNT: envInt({ min: 1, max: 1_000_000, default: AUTH_DEFAULTS.loginRateLimitMaxPerAccount }),
  LOGIN_RATE_LIMIT_WINDOW_SECONDS: envInt({ min: 1, max: DAY, default: AUTH_DEFAULTS.loginRateLimitWindowSeconds }),
  /** How long the second step of a two-factor login may wait for its code. */
  MFA_CHALLENGE_TTL_SECONDS: envInt({ min: 30, max: HOUR, default: AUTH_DEFAULTS.mfaChallengeTtlSeconds }),
  /** Issuer shown by authenticator apps next to the account. */
  TOTP_ISSUER: z.string().min(1).max(64).default('RallyForge'),
  /** Where auth's mail consumer delivers (`smtp://user:pass@host:587`, `smtps://host:465`); required in production. */
  SMTP_URL: envUrl(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL such as smtp://user:password@mail.example.org:587').optional(),
  MAIL_FROM: z.string().min(3).max(320).default(AUTH_DEFAULTS.mailFrom).describe('a sender such as RallyForge <no-reply@example.org>'),
  /** The links in e-mails point here (`<base>/verify-email?token=…`): the web app or the gateway. */
  MAIL_LINK_BASE_URL: envUrl(['http:', 'https:'], 'an http(s):// URL of the web app').default(AUTH_DEFAULTS.mailLinkBaseUrl),
  SMTP_TIMEOUT_MS: envInt({ min: 1000, max: 120_000, default: AUTH_DEFAULTS.smtpTimeoutMs }),
  EMAIL_TOKEN_TTL_SECONDS: envInt({ min: 5 * MINUTE, max: DAY, default: AUTH_DEFAULTS.emailTokenTtlSeconds }),
  MAIL_REQUEST_LIMIT: envInt({ min: 1, max: 1000, default: AUTH_DEFAULTS.mailRequestLimit }),
  MAIL_REQUEST_WINDOW_SECONDS: envInt({ min: 1, max: DAY, default: AUTH_DEFAULTS.mailRequestWindowSeconds }),
});

export type AuthConfig = z.infer<typeof authConfigSchema>;

/** Loads and cross-checks auth's configuration; throws the kit's ConfigError listing every problem. */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const config = loadConfig(authConfigSchema, env);
  const problems = authConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Rules that involve more than one variable (zod object refinements would hide the shape from loadConfig). */
export function authConfigProblems(config: AuthConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!config.AUTH_KEY_ENCRYPTION_KEY && config.NODE_ENV !== 'development' && config.NODE_ENV !== 'test') {
    problems.push({
      variable: 'AUTH_KEY_ENCRYPTION_KEY',
      message:
        `AUTH_KEY_ENCRYPTION_KEY: required when NODE_ENV is ${config.NODE_ENV} (it encrypts the token signing keys); ` +
        'generate one with: openssl rand -base64 32',
    });
  }
  if (!config.SMTP_URL && config.NODE_ENV !== 'development' && config.NODE_ENV !== 'test') {
    problems.push({
      variable: 'SMTP_URL',
      message:
        `SMTP_URL: required when NODE_ENV is ${config.NODE_ENV} (verification, password reset and invitation e-mails ` +
        'go out through it); set it to your mail relay, for example smtp://user:password@smtp.example.org:587',
    });
  }
  if (config.SIGNING_KEY_GRACE_SECONDS < config.ACCESS_TOKEN_TTL_SECONDS) {
    problems.push({
      variable: 'SIGNING_KEY_GRACE_SECONDS',
      message:
        `SIGNING_KEY_GRACE_SECONDS (${config.SIGNING_KEY_GRACE_SECONDS}) must be at least ACCESS_TOKEN_TTL_SECONDS ` +
        `(${config.ACCESS_TOKEN_TTL_SECONDS}), or tokens signed just before a rotation stop verifying early`,
    });
  }
  if (config.SIGNING_KEY_PREPUBLISH_SECONDS >= config.SIGNING_KEY_ROTATION_SECONDS) {
    problems.push({
      variable: 'SIGNING_KEY_PREPUBLISH_SECONDS',
      message:
        `SIGNING_KEY_PREPUBLISH_SECONDS (${config.SIGNING_KEY_PREPUBLISH_SECONDS}) must be shorter than ` +
        `SIGNING_KEY_ROTATION_SECONDS (${config.SIGNING_KEY_ROTATION_SECONDS})`,
    });
  }
  return problems;
}

/** The key-encryption key as bytes; undefined means "use the development key" (only allowed in dev/test). */
export function keyEncryptionKeyFrom(config: AuthConfig): Buffer | undefined {
  return config.AUTH_KEY_ENCRYPTION_KEY ? parseKeyEncryptionKey(config.AUTH_KEY_ENCRYPTION_KEY) : undefined;
}

export { PASSWORD_MAX_LENGTH };
