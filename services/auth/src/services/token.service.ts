import { Injectable } from '@nestjs/common';
import { InjectConfig } from '@rallyforge/service-kit';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuthConfig } from '../config';
import type { UserEntity } from '../entities/user.entity';
import { RefreshTokenRepository } from '../repositories/refresh-token.repository';
import { SessionRepository } from '../repositories/session.repository';
import { UNKNOWN_CLIENT, type ClientInfo } from '../utils/client-info';
import { createRefreshToken } from '../utils/refresh-token';
import { SIGNING_ALGORITHM, SigningKeyService } from './signing-key.service';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Access-token lifetime in seconds. */
  expiresIn: number;
  tokenType: 'Bearer';
}

/** The roles claim of a user's access token. */
export function rolesOf(user: Pick<UserEntity, 'role'>): string[] {
  return [user.role];
}

/** Signs access tokens and issues refresh tokens (the caller provides the transaction the refresh row joins). */
@Injectable()
export class TokenService {
  private readonly accessTtlSeconds: number;
  private readonly refreshTtlMs: number;
  private readonly issuer: string;
  private readonly audience: string;

  constructor(
    private readonly signingKeys: SigningKeyService,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly sessions: SessionRepository,
    @InjectConfig() config: AuthConfig,
  ) {
    this.accessTtlSeconds = config.ACCESS_TOKEN_TTL_SECONDS;
    this.refreshTtlMs = config.REFRESH_TOKEN_TTL_SECONDS * 1000;
    this.issuer = config.AUTH_ISSUER;
    this.audience = config.AUTH_AUDIENCE;
  }

  /**
   * Issues an access token and a refresh token in `familyId` (a new family for a login, the same for a refresh). The
   * family is the session: created at login, its last use, address and user agent updated at every refresh.
   */
  async issuePair(
    manager: EntityManager,
    user: UserEntity,
    familyId: string,
    now = new Date(),
    client: ClientInfo = UNKNOWN_CLIENT,
  ): Promise<TokenPair> {
    await this.sessions.touch(manager, {
      id: familyId,
      tenantId: user.tenantId,
      userId: user.id,
      at: now,
      ip: client.ip ?? null,
      userAgent: client.userAgent ?? null,
    });
    const refresh = createRefreshToken(user.tenantId);
    await this.refreshTokens.insert(manager, {
      tenantId: user.tenantId,
      userId: user.id,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: new Date(now.getTime() + this.refreshTtlMs),
    });
    const accessToken = await this.signAccessToken(user, now, familyId);
    return { accessToken, refreshToken: refresh.token, expiresIn: this.accessTtlSeconds, tokenType: 'Bearer' };
  }

  /** `sessionId` becomes the `sid` claim: it lets the session list mark the caller's own session. */
  async signAccessToken(user: UserEntity, now = new Date(), sessionId?: string): Promise<string> {
    const key = await this.signingKeys.signingKey(now);
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ tid: user.tenantId, roles: rolesOf(user), email: user.email, ...(sessionId ? { sid: sessionId } : {}) })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.accessTtlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }
}
