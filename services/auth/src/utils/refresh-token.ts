import { createHash, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are opaque to clients: `rt1.<tenantId>.<32 random bytes, base64url>`. Only the SHA-256 of the whole
 * value is stored. The tenant id travels in the clear so the refresh path knows which tenant's rows it may touch before
 * it looks anything up (that is what makes per-transaction `SET LOCAL app.tenant_id` possible once Row-Level Security
 * arrives); it is not trusted on its own: the lookup still needs the hash to match a row of that tenant.
 */
const PREFIX = 'rt1';
const RANDOM_BYTES = 32;

export interface ParsedRefreshToken {
  tenantId: string;
  hash: string;
}

export function createRefreshToken(tenantId: string): { token: string; hash: string } {
  const token = `${PREFIX}.${tenantId}.${randomBytes(RANDOM_BYTES).toString('base64url')}`;
  return { token, hash: hashOpaqueToken(token) };
}

/** Parses a presented refresh token; undefined for anything that cannot be one of ours. */
export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, tenantId, secret] = parts;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(tenantId) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return { tenantId, hash: hashOpaqueToken(token) };
}

/** SHA-256 hex: enough for high-entropy random tokens (no need for a slow password hash). */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A random opaque token for invitations (delivered by e-mail later; only its hash is stored). */
export function createOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(RANDOM_BYTES).toString('base64url');
  return { token, hash: hashOpaqueToken(token) };
}
