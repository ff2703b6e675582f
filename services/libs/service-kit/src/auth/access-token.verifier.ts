import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError, ErrorCode, serviceUnavailable, unauthenticated } from '../errors/app-error';
import type { AuthUser } from './auth-user';

/** Only what the auth service signs with (Ed25519). Everything else, `none` and HS* included, is refused. */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA'] as const;
/** Clock skew tolerated between the auth service and this one. */
export const ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS = 5;

export interface AccessTokenVerifierOptions {
  /** Resolves the verification key: `createRemoteJWKSet(AUTH_JWKS_URL)`, or the auth service's local key set. */
  getKey: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}

/**
 * Verifies access tokens: signature with an allowed algorithm, issuer, audience, expiry, and the claims every
 * service relies on (`sub`, `tid`, `roles`). Anything wrong is a 401; a key set that cannot be fetched is a 503,
 * so that an auth-service outage does not log every user out.
 */
export class AccessTokenVerifier {
  constructor(private readonly options: AccessTokenVerifierOptions) {}

  async verify(token: string): Promise<AuthUser> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.options.getKey, {
        algorithms: [...ACCESS_TOKEN_ALGORITHMS],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'tid', 'roles'],
        clockTolerance: ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      throw toAuthError(error);
    }
    return toAuthUser(payload);
  }
}

function toAuthUser(payload: JWTPayload): AuthUser {
  const { sub, tid, roles, email } = payload as JWTPayload & { tid?: unknown; roles?: unknown; email?: unknown };
  if (typeof sub !== 'string' || sub === '' || typeof tid !== 'string' || tid === '') {
    throw unauthenticated('Access token is missing its subject or tenant');
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw unauthenticated('Access token roles must be a list of strings');
  }
  return { userId: sub, tenantId: tid, roles, ...(typeof email === 'string' ? { email } : {}) };
}

function toAuthError(error: unknown): AppError {
  if (error instanceof AppError) {
    return error;
  }
  if (error instanceof joseErrors.JWTExpired) {
    return unauthenticated('Access token expired');
  }
  if (isKeySetUnavailable(error)) {
    return serviceUnavailable('Token keys are temporarily unavailable');
  }
  if (error instanceof joseErrors.JOSEError) {
    return unauthenticated('Invalid access token');
  }
  // Not a token problem: the key set could not be fetched (network, DNS, non-JSON answer).
  return new AppError(503, ErrorCode.SERVICE_UNAVAILABLE, 'Token keys are temporarily unavailable', { cause: error });
}

/**
 * Key-set fetch failures: a timeout, a malformed set, or jose's generic error, which it only throws for a non-200
 * or non-JSON answer of the JWKS endpoint (token problems all have their own error classes).
 */
function isKeySetUnavailable(error: unknown): boolean {
  return (
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    (error instanceof joseErrors.JOSEError && error.code === joseErrors.JOSEError.code)
  );
}
