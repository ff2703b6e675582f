import { randomBytes } from 'node:crypto';
import { hashOpaqueToken } from './refresh-token';

/**
 * Tokens that travel by e-mail: `<kind>.<tenantId>.<32 random bytes, base64url>`. Like refresh tokens, the tenant
 * travels in the clear so the request can bind its transaction to that tenant (Row-Level Security) before any lookup;
 * it is not trusted on its own: the SHA-256 of the whole value must match a row of that tenant. The kind keeps a
 * reset token from being accepted as an invitation and the other way round.
 */
export const TenantTokenKind = {
  emailVerification: 'ev1',
  passwordReset: 'pr1',
  invitation: 'iv1',
} as const;
export type TenantTokenKind = (typeof TenantTokenKind)[keyof typeof TenantTokenKind];

const RANDOM_BYTES = 32;
const TENANT_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** kind (3) + tenant (≤ 40) + secret (43) + dots: anything longer is not one of ours. */
export const TENANT_TOKEN_MAX_LENGTH = 100;

export interface TenantToken {
  token: string;
  hash: string;
}

export function createTenantToken(kind: TenantTokenKind, tenantId: string): TenantToken {
  const token = `${kind}.${tenantId}.${randomBytes(RANDOM_BYTES).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

/** The tenant and hash of a presented token of `kind`; undefined for anything that cannot be one. */
export function parseTenantToken(kind: TenantTokenKind, token: string): { tenantId: string; hash: string } | undefined {
  if (token.length > TENANT_TOKEN_MAX_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== kind) return undefined;
  const [, tenantId, secret] = parts;
  if (tenantId.length > 40 || !TENANT_PATTERN.test(tenantId) || !SECRET_PATTERN.test(secret)) return undefined;
  return { tenantId, hash: hashOpaqueToken(token) };
}
