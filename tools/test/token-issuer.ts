import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';

/** Claims of an access token, as the auth service issues them. */
export interface TokenClaims {
  sub: string;
  tid: string;
  roles: string[];
  iss?: string;
  aud?: string;
  /** Seconds since the epoch. */
  exp?: number;
}

export interface TestUser {
  userId: string;
  tenantId: string;
  roles: string[];
}

/**
 * An Ed25519 key pair and its JWKS on a local HTTP server, as the auth service publishes it: a service under
 * test verifies tokens exactly as in production (AUTH_JWKS_URL), nothing is overridden.
 */
export class TokenIssuer {
  private constructor(
    private readonly privateKey: KeyLike,
    private readonly kid: string,
    private readonly server: Server,
    readonly jwksUrl: string,
  ) {}

  static async start(kid = 'test-key'): Promise<TokenIssuer> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    return new TokenIssuer(privateKey, kid, server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  /** An access token with these claims (issuer rallyforge-auth, audience rallyforge, 5 minutes unless given). */
  sign(claims: TokenClaims, privateKey: KeyLike = this.privateKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { sub, iss = 'rallyforge-auth', aud = 'rallyforge', exp = now + 300, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid })
      .setSubject(sub)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(privateKey);
  }

  /** A valid access token for `user`. */
  token(user: TestUser, options: { expiresInSeconds?: number; privateKey?: KeyLike } = {}): Promise<string> {
    const exp = Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 300);
    return this.sign({ sub: user.userId, tid: user.tenantId, roles: user.roles, exp }, options.privateKey);
  }

  /** A token signed by a key the JWKS does not know. */
  async forged(claims: TokenClaims): Promise<string> {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    return this.sign(claims, privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
