import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError, ErrorCode, serviceUnavailable, unauthenticated } from '../errors/app-error';
import type { AuthUser } from './auth-user';

/** Only what the auth service signs with (Ed25519). Everything else, `none` and HS* included, is refused. */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA'] as const;
/** Clock skew tolerated between the auth service and this one. */
export const ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS = 5;

/**
 * How long a successful verification is remembered. Ed25519 verification dominates an authenticated request's
 * CPU; a client sends the same token on every call for up to 15 minutes. The bound keeps a withdrawn signing key
 * effective within a minute.
 */
export const ACCESS_TOKEN_CACHE_TTL_MS = 60_000;
/** At most this many verified tokens are remembered (least recently used go first): a few MB at most. */
export const ACCESS_TOKEN_CACHE_MAX_ENTRIES = 10_000;

export interface AccessTokenVerifierOptions {
  /** Resolves the verification key: `createRemoteJWKSet(AUTH_JWKS_URL)`, or the auth service's local key set. */
  getKey: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** @default ACCESS_TOKEN_CACHE_TTL_MS; 0 turns the cache off. */
  cacheTtlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface CachedVerification {
  user: AuthUser;
  /** The earlier of the token's own expiry and the cache bound. */
  validUntilMs: number;
}

/**
 * Verifies access tokens: signature with an allowed algorithm, issuer, audience, expiry, and the claims every
 * service relies on (`sub`, `tid`, `roles`). Anything wrong is a 401; a key set that cannot be fetched is a 503,
 * so that an auth-service outage does not log every user out.
 */
export class AccessTokenVerifier {
  /** Verified tokens only: a token that failed verification is never remembered, so it fails every time. */
  private readonly cache = new Map<string, CachedVerification>();
  private readonly cacheTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AccessTokenVerifierOptions) {
    this.cacheTtlMs = options.cacheTtlMs ?? ACCESS_TOKEN_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<AuthUser> {
    const now = this.now();
    const cached = this.cache.get(token);
    if (cached) {
      this.cache.delete(token);
      if (cached.validUntilMs > now) {
        this.cache.set(token, cached); // most recently used goes last
        return cached.user;
      }
    }
    const { user, expiresAtMs } = await this.verifyUncached(token);
    if (this.cacheTtlMs > 0) {
      if (this.cache.size >= ACCESS_TOKEN_CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, { user, validUntilMs: Math.min(expiresAtMs, now + this.cacheTtlMs) });
    }
    return user;
  }

  private async verifyUncached(token: string): Promise<{ user: AuthUser; expiresAtMs: number }> {
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
    return { user: toAuthUser(payload), expiresAtMs: (payload.exp as number) * 1000 };
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
