import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stored password hashes of the three systems, computed and checked on the operator's side. Checking first lets
 * the periodic resync leave an unchanged password alone (no write, no new salt every ten minutes); computing the
 * PostgreSQL verifier here keeps the clear-text password out of the server's statement log.
 */

const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;
/** SCRAM needs SASLprep for non-ASCII passwords; for those we let the server hash (operator passwords are ASCII). */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function scramKeys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return {
    storedKey: createHash('sha256').update(hmac(salted, 'Client Key')).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** A PostgreSQL SCRAM-SHA-256 verifier for `password`, or undefined when the server must hash it itself. */
export function scramSha256Verifier(password: string): string | undefined {
  if (!PRINTABLE_ASCII.test(password)) return undefined;
  const salt = randomBytes(SCRAM_SALT_BYTES);
  const { storedKey, serverKey } = scramKeys(password, salt, SCRAM_ITERATIONS);
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether PostgreSQL's stored `rolpassword` (SCRAM or MD5) accepts `password`; false when it cannot tell. */
export function postgresPasswordMatches(stored: string | null | undefined, password: string, role: string): boolean {
  if (!stored) return false;
  const scram = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(stored);
  if (scram) {
    if (!PRINTABLE_ASCII.test(password)) return false;
    const [, iterations, salt, storedKey, serverKey] = scram as unknown as [string, string, string, string, string];
    const keys = scramKeys(password, Buffer.from(salt, 'base64'), Number(iterations));
    return equal(keys.storedKey, Buffer.from(storedKey, 'base64')) && equal(keys.serverKey, Buffer.from(serverKey, 'base64'));
  }
  if (/^md5[0-9a-f]{32}$/.test(stored)) {
    const expected = `md5${createHash('md5').update(password + role).digest('hex')}`;
    return equal(Buffer.from(expected), Buffer.from(stored));
  }
  return false;
}

/** Whether a RabbitMQ `password_hash` (base64 of a 4-byte salt and the digest of salt + password) matches. */
export function rabbitPasswordMatches(passwordHash: string | undefined, algorithm: string | undefined, password: string): boolean {
  if (!passwordHash) return false;
  const digest = { rabbit_password_hashing_sha256: 'sha256', rabbit_password_hashing_sha512: 'sha512', rabbit_password_hashing_md5: 'md5' }[
    algorithm ?? 'rabbit_password_hashing_sha256'
  ];
  if (!digest) return false;
  const raw = Buffer.from(passwordHash, 'base64');
  if (raw.length <= 4) return false;
  const salt = raw.subarray(0, 4);
  const computed = createHash(digest).update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest();
  return equal(computed, raw.subarray(4));
}

/**
 * The runtime role's password, derived from the owner's (the one the tenant's Secret keeps per database): one
 * secret to store and rotate, and knowing the runtime password reveals nothing of the owner's. The other way round
 * grants nothing new, as the owner may do everything the runtime role may.
 */
export function runtimeRolePassword(ownerPassword: string): string {
  return createHmac('sha256', ownerPassword).update('rallyforge:postgres-runtime-role').digest('base64url');
}

/** How Redis lists an ACL user's password (`ACL GETUSER` → passwords): hex SHA-256. */
export function redisPasswordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
