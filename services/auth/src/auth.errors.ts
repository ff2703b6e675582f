import { AppError } from '@rallyforge/service-kit';

/** Auth's stable error codes (clients switch on these). */
export const AuthErrorCode = {
  ORGANISATION_NOT_FOUND: 'ORGANISATION_NOT_FOUND',
  ORGANISATION_SUSPENDED: 'ORGANISATION_SUSPENDED',
  REGISTRATION_CLOSED: 'REGISTRATION_CLOSED',
  WEAK_PASSWORD: 'WEAK_PASSWORD',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  INVALID_REFRESH_TOKEN: 'INVALID_REFRESH_TOKEN',
  REFRESH_TOKEN_EXPIRED: 'REFRESH_TOKEN_EXPIRED',
  REFRESH_TOKEN_REUSED: 'REFRESH_TOKEN_REUSED',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  TOO_MANY_LOGIN_ATTEMPTS: 'TOO_MANY_LOGIN_ATTEMPTS',
} as const;

export const AuthErrors = {
  organisationNotFound: () =>
    new AppError(404, AuthErrorCode.ORGANISATION_NOT_FOUND, 'Organisation not found; check the organisation id'),
  organisationSuspended: () =>
    new AppError(403, AuthErrorCode.ORGANISATION_SUSPENDED, 'This organisation is suspended; contact its administrators'),
  registrationClosed: () =>
    new AppError(
      403,
      AuthErrorCode.REGISTRATION_CLOSED,
      'This organisation accepts members by invitation only; ask an administrator for an invitation',
    ),
  weakPassword: (rules: string[]) =>
    new AppError(400, AuthErrorCode.WEAK_PASSWORD, `Password must contain ${rules.join(', ')}`),
  emailTaken: () =>
    new AppError(409, AuthErrorCode.EMAIL_TAKEN, 'An account with this e-mail already exists in this organisation; log in instead'),
  /** One body for unknown organisation, unknown user and wrong password, so responses do not tell them apart. */
  invalidCredentials: () =>
    new AppError(401, AuthErrorCode.INVALID_CREDENTIALS, 'Organisation, e-mail or password is incorrect'),
  invalidRefreshToken: () =>
    new AppError(401, AuthErrorCode.INVALID_REFRESH_TOKEN, 'Refresh token is invalid or revoked; log in again'),
  refreshTokenExpired: () =>
    new AppError(401, AuthErrorCode.REFRESH_TOKEN_EXPIRED, 'Refresh token expired; log in again'),
  refreshTokenReused: () =>
    new AppError(
      401,
      AuthErrorCode.REFRESH_TOKEN_REUSED,
      'Refresh token was already used; every session of this login was revoked, log in again',
    ),
  tooManyLoginAttempts: (retryAfterSeconds: number) =>
    new AppError(
      429,
      AuthErrorCode.TOO_MANY_LOGIN_ATTEMPTS,
      `Too many failed logins for this account; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes or reset the password`,
    ),
  userNotFound: () => new AppError(404, AuthErrorCode.USER_NOT_FOUND, 'User not found'),
} as const;
