import { AppError } from '@rallyforge/service-kit';
import { AuthErrorCode, RateLimitedError } from './auth.errors';

/** Stable codes of two-factor authentication, sessions, login history and login rate limits. */
export const AccountSecurityErrorCode = {
  LOGIN_RATE_LIMITED: 'LOGIN_RATE_LIMITED',
  MFA_CHALLENGE_INVALID: 'MFA_CHALLENGE_INVALID',
  INVALID_MFA_CODE: 'INVALID_MFA_CODE',
  TWO_FACTOR_ALREADY_ENABLED: 'TWO_FACTOR_ALREADY_ENABLED',
  TWO_FACTOR_NOT_ENROLLED: 'TWO_FACTOR_NOT_ENROLLED',
  TWO_FACTOR_NOT_ENABLED: 'TWO_FACTOR_NOT_ENABLED',
  INVALID_TWO_FACTOR_CODE: 'INVALID_TWO_FACTOR_CODE',
  REAUTHENTICATION_FAILED: 'REAUTHENTICATION_FAILED',
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  INVALID_CURSOR: 'INVALID_CURSOR',
} as const;

const minutes = (seconds: number) => Math.max(1, Math.ceil(seconds / 60));

export const AccountSecurityErrors = {
  /** The lockout (LOGIN_MAX_FAILURES failures), with Retry-After; also answered for unknown accounts. */
  loginLocked: (retryAfterSeconds: number) =>
    new RateLimitedError(
      AuthErrorCode.TOO_MANY_LOGIN_ATTEMPTS,
      `Too many failed logins for this account; try again in ${minutes(retryAfterSeconds)} minutes or reset the password`,
      retryAfterSeconds,
    ),
  /** Same answer for existing and unknown accounts: the counters exist for both. */
  loginRateLimited: (retryAfterSeconds: number) =>
    new RateLimitedError(
      AccountSecurityErrorCode.LOGIN_RATE_LIMITED,
      `Too many login attempts from this address or for this account; try again in ${minutes(retryAfterSeconds)} minutes`,
      retryAfterSeconds,
    ),
  mfaChallengeInvalid: () =>
    new AppError(
      401,
      AccountSecurityErrorCode.MFA_CHALLENGE_INVALID,
      'This two-factor login step is unknown, expired (it lasts 5 minutes) or already used; log in with your password again',
    ),
  invalidMfaCode: () =>
    new AppError(
      401,
      AccountSecurityErrorCode.INVALID_MFA_CODE,
      'The code is incorrect or was already used; enter the current 6-digit code from your authenticator app or an unused recovery code',
    ),
  twoFactorAlreadyEnabled: () =>
    new AppError(
      409,
      AccountSecurityErrorCode.TWO_FACTOR_ALREADY_ENABLED,
      'Two-factor authentication is already enabled; disable it first (POST /api/v1/auth/me/2fa/disable) to enrol another authenticator',
    ),
  twoFactorNotEnrolled: () =>
    new AppError(
      409,
      AccountSecurityErrorCode.TWO_FACTOR_NOT_ENROLLED,
      'There is no authenticator waiting for confirmation; start with POST /api/v1/auth/me/2fa/enrol',
    ),
  twoFactorNotEnabled: () =>
    new AppError(409, AccountSecurityErrorCode.TWO_FACTOR_NOT_ENABLED, 'Two-factor authentication is not enabled for this account'),
  invalidTwoFactorCode: () =>
    new AppError(
      400,
      AccountSecurityErrorCode.INVALID_TWO_FACTOR_CODE,
      'The code is incorrect or was already used; enter the current 6-digit code from your authenticator app (check its clock)',
    ),
  reauthenticationFailed: () =>
    new AppError(403, AccountSecurityErrorCode.REAUTHENTICATION_FAILED, 'Password or code is incorrect'),
  sessionNotFound: () =>
    new AppError(404, AccountSecurityErrorCode.SESSION_NOT_FOUND, 'No active session with this id among your sessions; list them with GET /api/v1/auth/me/sessions'),
  invalidCursor: () =>
    new AppError(400, AccountSecurityErrorCode.INVALID_CURSOR, 'cursor must be the nextCursor of a previous page; omit it for the first page'),
} as const;
