import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';

export interface TestUser {
  userId: string;
  tenantId: string;
  roles: string[];
}

/**
 * An Ed25519 key pair and its JWKS on a local HTTP server, as the auth service publishes it: the service under
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
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new TokenIssuer(privateKey, kid, server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  /** A valid access token (issuer rallyforge-auth, audience rallyforge, 5 minutes) for `user`. */
  token(user: TestUser, options: { expiresInSeconds?: number; privateKey?: KeyLike } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tid: user.tenantId, roles: user.roles })
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid })
      .setSubject(user.userId)
      .setIssuer('rallyforge-auth')
      .setAudience('rallyforge')
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresInSeconds ?? 300))
      .sign(options.privateKey ?? this.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
