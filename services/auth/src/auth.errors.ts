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
  INVALID_TOKEN: 'INVALID_TOKEN',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_ALREADY_USED: 'TOKEN_ALREADY_USED',
  EMAIL_ALREADY_VERIFIED: 'EMAIL_ALREADY_VERIFIED',
  TOO_MANY_MAIL_REQUESTS: 'TOO_MANY_MAIL_REQUESTS',
  ALREADY_MEMBER: 'ALREADY_MEMBER',
  INVITATION_PENDING: 'INVITATION_PENDING',
  INVITATION_NOT_FOUND: 'INVITATION_NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
} as const;

/** A 429 that tells the client when to come back (the controller's RetryAfterInterceptor sets `Retry-After`). */
export class RateLimitedError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, code, message);
  }
}

/** What an e-mailed token was for, in the words the error messages use. */
export type EmailedTokenKind = 'verification link' | 'password reset link' | 'invitation';

const requestAgain: Record<EmailedTokenKind, string> = {
  'verification link': 'request a new one with POST /api/v1/auth/verify-email/resend',
  'password reset link': 'request a new one with POST /api/v1/auth/password-reset/request',
  invitation: 'ask an administrator of the organisation to invite you again',
};

export const AuthErrors = {
  organisationNotFound: () =>
    new AppError(404, AuthErrorCode.ORGANISATION_NOT_FOUND, 'Organisation not found; check the organisation id'),
  organisationSuspended: () =>
    new AppError(403, AuthErrorCode.ORGANISATION_SUSPENDED, 'This organisation is suspended; contact its administrators'),
  registrationClosed: () =>
    new AppError(
      403,
      AuthErrorCode.REGISTRATION_CLOSED,
      'This organisation accepts members by invitation only; ask one of its administrators to invite you, then ' +
        'accept the e-mailed invitation with POST /api/v1/auth/invitations/accept {token, password, displayName}',
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
  invalidToken: (kind: EmailedTokenKind) =>
    new AppError(400, AuthErrorCode.INVALID_TOKEN, `This ${kind} is not valid (copy it whole from the e-mail) or was replaced by a newer one; ${requestAgain[kind]}`),
  tokenExpired: (kind: EmailedTokenKind) =>
    new AppError(400, AuthErrorCode.TOKEN_EXPIRED, `This ${kind} has expired; ${requestAgain[kind]}`),
  tokenAlreadyUsed: (kind: EmailedTokenKind) =>
    new AppError(400, AuthErrorCode.TOKEN_ALREADY_USED, `This ${kind} was already used (each works once); ${requestAgain[kind]}`),
  emailAlreadyVerified: () =>
    new AppError(409, AuthErrorCode.EMAIL_ALREADY_VERIFIED, 'This e-mail address is already verified; nothing to do'),
  tooManyMailRequests: (retryAfterSeconds: number) =>
    new RateLimitedError(
      AuthErrorCode.TOO_MANY_MAIL_REQUESTS,
      `Too many e-mails requested for this account; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`,
      retryAfterSeconds,
    ),
  alreadyMember: () =>
    new AppError(409, AuthErrorCode.ALREADY_MEMBER, 'This e-mail address already has an account in your organisation'),
  invitationPending: (expiresAt: Date) =>
    new AppError(
      409,
      AuthErrorCode.INVITATION_PENDING,
      `This e-mail address already has a pending invitation (valid until ${expiresAt.toISOString()}); ` +
        'revoke it with DELETE /api/v1/auth/invitations/{id} to send a new one',
    ),
  invitationNotFound: () =>
    new AppError(404, AuthErrorCode.INVITATION_NOT_FOUND, 'No pending invitation with this id in your organisation'),
  orgAdminOnly: () =>
    new AppError(403, AuthErrorCode.FORBIDDEN, 'Only administrators (org_admin) of your organisation may manage invitations'),
} as const;
