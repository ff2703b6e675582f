import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { SigningKeyService } from '@rallyforge/auth/src/services/signing-key.service';
import type { InProcessPlatform, Member } from '../../test/in-process-platform';

/**
 * Access tokens an attacker can make, each wrong in one way only. They are built by hand (a compact JWS from header,
 * claims and signature) rather than with jose, which refuses to produce most of them; `control` is built the same
 * way and must be accepted, so a refusal of the others is about their defect, not about this builder.
 */

const ISSUER = 'rallyforge-auth';
const AUDIENCE = 'rallyforge';

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));

type Signer = (input: Buffer) => Buffer;

/** `header.claims.signature` with `signer` over the first two parts (no signature part when `signer` is undefined). */
export function compactJws(header: Record<string, unknown>, claims: Record<string, unknown>, signer?: Signer): string {
  const input = `${json(header)}.${json(claims)}`;
  return `${input}.${signer ? b64(signer(Buffer.from(input))) : ''}`;
}

const ed25519 = (key: KeyObject): Signer => (input) => sign(null, input, key);
const rsaSha256 = (key: KeyObject): Signer => (input) => sign('sha256', input, key);
const ecdsaP256 = (key: KeyObject): Signer => (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
const hmacSha256 = (secret: Buffer | string): Signer => (input) => createHmac('sha256', secret).update(input).digest();

export interface ForgedToken {
  readonly label: string;
  readonly token: string;
}

export interface TokenForgery {
  /** Built like the forgeries, right in every respect: the services must accept it. */
  readonly control: string;
  /** One defect each; every service must answer 401 to each of them. */
  readonly forged: readonly ForgedToken[];
}

/** The current signing key of the running auth service (what only auth should ever hold). */
export async function authSigningKey(platform: InProcessPlatform): Promise<{ kid: string; privateKey: KeyObject; publicKey: KeyObject }> {
  const key = await platform.apps.auth.get(SigningKeyService, { strict: false }).signingKey();
  return { kid: key.kid, privateKey: key.privateKey, publicKey: createPublicKey(key.privateKey) };
}

/** Claims as auth issues them for `member`, valid for five minutes. */
export function claimsOf(member: Pick<Member, 'id' | 'org' | 'role' | 'email'>, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    sub: member.id,
    tid: member.org,
    roles: [member.role],
    email: member.email,
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
  };
}

/** The forgeries of `member`'s identity (and `realToken`, one of their real tokens, for tampering). */
export async function forgeTokens(platform: InProcessPlatform, member: Member): Promise<TokenForgery> {
  const { kid, privateKey, publicKey } = await authSigningKey(platform);
  const now = Math.floor(Date.now() / 1000);
  const claims = claimsOf(member, now);
  const header = { alg: 'EdDSA', kid, typ: 'JWT' };
  const real = ed25519(privateKey);

  const other = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed448 = generateKeyPairSync('ed448');
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const publicJwk = publicKey.export({ format: 'jwk' });
  const otherJwk = other.publicKey.export({ format: 'jwk' });

  const [realHeader, realPayload, realSignature] = member.token.split('.');
  const raised = json({ ...JSON.parse(Buffer.from(realPayload!, 'base64url').toString('utf8')), roles: ['org_admin'] });
  const flipped = `${realSignature!.slice(0, -2)}${realSignature!.endsWith('AA') ? 'BB' : 'AA'}`;

  const forged: ForgedToken[] = [
    { label: 'tampered claims (roles raised to org_admin, signature kept)', token: `${realHeader}.${raised}.${realSignature}` },
    { label: 'tampered signature', token: `${realHeader}.${realPayload}.${flipped}` },
    { label: 'signature stripped', token: `${realHeader}.${realPayload}.` },
    { label: 'expired ten minutes ago (real key)', token: compactJws(header, { ...claims, iat: now - 1500, exp: now - 600 }, real) },
    { label: 'not valid before an hour from now (real key)', token: compactJws(header, { ...claims, nbf: now + 3600 }, real) },
    { label: 'alg none', token: compactJws({ alg: 'none', kid, typ: 'JWT' }, claims) },
    { label: 'alg "None" (case games)', token: compactJws({ alg: 'None', kid, typ: 'JWT' }, claims) },
    { label: 'HS256 with the public key (PEM) as the HMAC secret', token: compactJws({ alg: 'HS256', kid, typ: 'JWT' }, claims, hmacSha256(publicPem)) },
    { label: 'HS256 with the public key (JWK x) as the HMAC secret', token: compactJws({ alg: 'HS256', kid, typ: 'JWT' }, claims, hmacSha256(String(publicJwk.x))) },
    { label: 'RS256 under the real kid', token: compactJws({ alg: 'RS256', kid, typ: 'JWT' }, claims, rsaSha256(rsa.privateKey)) },
    { label: 'ES256 under the real kid', token: compactJws({ alg: 'ES256', kid, typ: 'JWT' }, claims, ecdsaP256(ec.privateKey)) },
    { label: 'EdDSA with an Ed448 key under the real kid', token: compactJws(header, claims, ed25519(ed448.privateKey)) },
    { label: 'EdDSA signed by another key under the real kid', token: compactJws(header, claims, ed25519(other.privateKey)) },
    {
      label: "another deployment's auth (its own key and kid, same issuer and audience)",
      token: compactJws({ ...header, kid: `other-${randomUUID()}` }, claims, ed25519(other.privateKey)),
    },
    {
      label: 'attacker key embedded in the header (jwk)',
      token: compactJws({ ...header, kid: `embedded-${randomUUID()}`, jwk: otherJwk }, claims, ed25519(other.privateKey)),
    },
    {
      label: 'attacker key set URL in the header (jku)',
      token: compactJws({ ...header, jku: 'http://127.0.0.1:1/jwks.json' }, claims, ed25519(other.privateKey)),
    },
    { label: 'unknown kid (real key)', token: compactJws({ ...header, kid: `retired-${randomUUID()}` }, claims, real) },
    { label: 'wrong issuer (real key)', token: compactJws(header, { ...claims, iss: 'https://evil.example.org' }, real) },
    { label: 'wrong audience (real key)', token: compactJws(header, { ...claims, aud: 'another-platform' }, real) },
    { label: 'no audience (real key)', token: compactJws(header, { ...claims, aud: undefined }, real) },
    { label: 'no tenant (real key)', token: compactJws(header, { ...claims, tid: undefined }, real) },
    { label: 'empty tenant (real key)', token: compactJws(header, { ...claims, tid: '' }, real) },
    { label: 'roles not a list (real key)', token: compactJws(header, { ...claims, roles: 'org_admin' }, real) },
    { label: 'no expiry (real key)', token: compactJws(header, { ...claims, exp: undefined }, real) },
    { label: 'unknown critical header (real key)', token: compactJws({ ...header, crit: ['x-rf-bypass'], 'x-rf-bypass': true }, claims, real) },
    { label: 'not a JWT', token: 'not.a.jwt' },
    { label: 'a refresh token in place of an access token', token: member.refreshToken },
  ];
  return { control: compactJws(header, claims, real), forged };
}
