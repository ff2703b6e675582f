import { createServer, type Server } from 'node:http';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';

export interface TokenClaims {
  sub?: string;
  tid?: string;
  roles?: unknown;
  email?: string;
  iss?: string;
  aud?: string;
  /** Seconds since the epoch. */
  exp?: number;
}

/** An Ed25519 key pair and a JWKS served on a local HTTP server, as the auth service would. */
export class TokenIssuer {
  private constructor(
    private readonly privateKey: KeyLike,
    readonly kid: string,
    private readonly server: Server,
    readonly jwksUrl: string,
    readonly requests: { count: number },
  ) {}

  static async start(kid = 'test-key-1'): Promise<TokenIssuer> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    const requests = { count: 0 };
    const server = createServer((_request, response) => {
      requests.count++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    return new TokenIssuer(privateKey, kid, server, `http://127.0.0.1:${port}/.well-known/jwks.json`, requests);
  }

  /** A valid access token unless `claims` says otherwise. */
  sign(claims: TokenClaims = {}, privateKey: KeyLike = this.privateKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { sub = 'user-1', iss = 'rallyforge-auth', aud = 'rallyforge', exp = now + 300, ...rest } = claims;
    const payload = { tid: 'tenant-1', roles: ['member'], ...rest };
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.kid })
      .setSubject(sub)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(privateKey);
  }

  /** `alg: none`: claims that look right, no signature. */
  unsigned(): string {
    return new UnsecuredJWT({ tid: 'tenant-1', roles: ['admin'] })
      .setSubject('user-1')
      .setIssuer('rallyforge-auth')
      .setAudience('rallyforge')
      .setExpirationTime('5m')
      .encode();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
