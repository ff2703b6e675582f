import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Envelope format version, stored as the first byte so that a future scheme can coexist with this one. */
const FORMAT_V1 = 0x01;
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_ENCRYPTION_KEY_BYTES = 32;

/**
 * A development/test-only key-encryption key, derived from a fixed label so that keys written by one local run can be
 * read by the next. Never used when NODE_ENV is anything else (the config refuses to boot without a real key).
 */
export const DEVELOPMENT_KEY_ENCRYPTION_KEY = createHash('sha256')
  .update('rallyforge-auth-development-only-key-encryption-key')
  .digest();

export const KeyEncryptionErrors = {
  wrongLength: `AUTH_KEY_ENCRYPTION_KEY must be ${KEY_ENCRYPTION_KEY_BYTES} bytes encoded as base64 (generate one with: openssl rand -base64 32)`,
  unknownFormat: 'Encrypted signing key has an unknown format version; it was written by a newer auth service',
  tooShort: 'Encrypted signing key is truncated',
} as const;

/** Decodes the base64 `AUTH_KEY_ENCRYPTION_KEY`, refusing anything that is not exactly 32 bytes. */
export function parseKeyEncryptionKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_ENCRYPTION_KEY_BYTES) throw new Error(KeyEncryptionErrors.wrongLength);
  return key;
}

/**
 * Encrypts a private key with AES-256-GCM. `associatedData` (the key id) is authenticated but not stored, so a
 * ciphertext copied onto another row fails to decrypt instead of silently signing under the wrong kid.
 * Layout: version (1) | iv (12) | tag (16) | ciphertext.
 */
export function encryptSecret(plaintext: Buffer, kek: Buffer, associatedData: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, kek, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), ciphertext]);
}

/** Reverses {@link encryptSecret}; throws when the key, the associated data or the bytes do not match. */
export function decryptSecret(sealed: Buffer, kek: Buffer, associatedData: string): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES) throw new Error(KeyEncryptionErrors.tooShort);
  if (sealed[0] !== FORMAT_V1) throw new Error(KeyEncryptionErrors.unknownFormat);
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const ciphertext = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, kek, iv);
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}
