import { createHash, randomBytes } from 'node:crypto';

/**
 * Single-use recovery codes for when the authenticator is lost: 16 characters of Crockford-style base32 without
 * look-alikes (80 random bits), shown once as `xxxx-xxxx-xxxx-xxxx`. Only a SHA-256 bound to the user is stored:
 * 80 bits is far beyond offline guessing, so a slow password hash would only make every check slower.
 */
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_CODE_LENGTH = 16;
const GROUP = 4;

export function createRecoveryCode(): string {
  const bytes = randomBytes(RECOVERY_CODE_LENGTH);
  // 256 is a multiple of 32: taking the low 5 bits of each byte is uniform.
  const chars = Array.from(bytes, (byte) => RECOVERY_CODE_ALPHABET[byte & 31]!).join('');
  return chars.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

export function createRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, createRecoveryCode);
}

/**
 * The canonical form of a typed recovery code (lower case, no blanks or dashes, the look-alikes i/l → 1 and o → 0),
 * or undefined when it cannot be one.
 */
export function normaliseRecoveryCode(input: string): string | undefined {
  const clean = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
  if (clean.length !== RECOVERY_CODE_LENGTH) return undefined;
  for (const char of clean) if (!RECOVERY_CODE_ALPHABET.includes(char)) return undefined;
  return clean;
}

/** What is stored: SHA-256 of `<userId>:<canonical code>` (hex), so equal codes of two users never share a hash. */
export function hashRecoveryCode(userId: string, canonicalCode: string): string {
  return createHash('sha256').update(`${userId}:${canonicalCode}`, 'utf8').digest('hex');
}
