import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type KeyLike } from 'jose';

export interface TokenClaims {
  sub: string;
  tid: string;
  roles: string[];
  iss?: string;
  aud?: string;
  /** Seconds since the epoch. */
  exp?: number;
}

/** An Ed25519 key pair and its JWKS on a local HTTP server: the auth service, as far as a service can tell. */
export class TokenIssuer {
  private constructor(
    private readonly privateKey: KeyLike,
    private readonly server: Server,
    readonly jwksUrl: string,
  ) {}

  static async start(): Promise<TokenIssuer> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'EdDSA', use: 'sig' };
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    return new TokenIssuer(privateKey, server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  /** An access token as the auth service issues it (issuer rallyforge-auth, audience rallyforge). */
  sign(claims: TokenClaims, privateKey: KeyLike = this.privateKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const { sub, iss = 'rallyforge-auth', aud = 'rallyforge', exp = now + 300, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'test-key' })
      .setSubject(sub)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(privateKey);
  }

  /** A token signed by a key the JWKS does not know. */
  async forged(claims: TokenClaims): Promise<string> {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    return this.sign(claims, privateKey);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
