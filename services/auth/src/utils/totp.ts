import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Time-based one-time passwords (RFC 6238) on top of HOTP (RFC 4226), with node:crypto only. Authenticator apps
 * expect the defaults: HMAC-SHA-1, 6 digits, 30-second steps counted from the Unix epoch.
 */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** @default 'sha1' */
  readonly algorithm?: TotpAlgorithm;
  /** @default 6 */
  readonly digits?: number;
  /** Step length in seconds (RFC 6238's X). @default 30 */
  readonly periodSeconds?: number;
}

export const TOTP_DEFAULTS = { algorithm: 'sha1', digits: 6, periodSeconds: 30 } as const;
/** RFC 4226 §4 asks for at least 128 bits and recommends 160: one SHA-1 block's worth of key. */
export const TOTP_SECRET_BYTES = 20;
/** How many steps either side of now a code may come from (clock drift and typing time): RFC 6238 §5.2's one step. */
export const TOTP_ACCEPTED_DRIFT_STEPS = 1;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (what otpauth:// URIs and authenticator apps use). */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return output;
}

/** Decodes base32 (case-insensitive, blanks and padding ignored); undefined for any other character. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** A fresh random TOTP secret. */
export function createTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

/** HOTP (RFC 4226 §5.3): HMAC of the 8-byte big-endian counter, dynamic truncation, modulo 10^digits. */
export function hotp(secret: Buffer, counter: number, options: TotpOptions = {}): string {
  const algorithm = options.algorithm ?? TOTP_DEFAULTS.algorithm;
  const digits = options.digits ?? TOTP_DEFAULTS.digits;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step (RFC 6238's T) that `unixSeconds` falls in. */
export function totpStep(unixSeconds: number, options: TotpOptions = {}): number {
  return Math.floor(unixSeconds / (options.periodSeconds ?? TOTP_DEFAULTS.periodSeconds));
}

/** The code valid at `unixSeconds`. */
export function totp(secret: Buffer, unixSeconds: number, options: TotpOptions = {}): string {
  return hotp(secret, totpStep(unixSeconds, options), options);
}

export interface TotpCheck extends TotpOptions {
  /** Steps accepted either side of the current one. @default 1 */
  readonly driftSteps?: number;
  /**
   * The last step a code was accepted for: that step and every earlier one are refused, so a code (or one
   * observed before it) cannot be replayed within its window.
   */
  readonly lastUsedStep?: number | null;
}

/**
 * The step `code` belongs to, if it is valid at `unixSeconds` within the drift and newer than `lastUsedStep`;
 * undefined otherwise. Every candidate is compared in constant time, and all of them are computed whatever matches.
 */
export function matchTotp(secret: Buffer, code: string, unixSeconds: number, check: TotpCheck = {}): number | undefined {
  const digits = check.digits ?? TOTP_DEFAULTS.digits;
  if (code.length !== digits || !/^\d+$/.test(code)) return undefined;
  const drift = check.driftSteps ?? TOTP_ACCEPTED_DRIFT_STEPS;
  const current = totpStep(unixSeconds, check);
  const presented = Buffer.from(code, 'ascii');
  let matched: number | undefined;
  for (let step = current - drift; step <= current + drift; step++) {
    const expected = Buffer.from(hotp(secret, step, check), 'ascii');
    const equal = timingSafeEqual(expected, presented);
    const fresh = check.lastUsedStep === undefined || check.lastUsedStep === null || step > check.lastUsedStep;
    if (equal && fresh && matched === undefined) matched = step;
  }
  return matched;
}

/**
 * The provisioning URI authenticator apps read from a QR code (Key Uri Format): the label is `issuer:account`,
 * and the issuer is repeated as a parameter as the format recommends.
 */
export function otpauthUri(options: { issuer: string; account: string; secret: Buffer } & TotpOptions): string {
  const params = new URLSearchParams({
    secret: base32Encode(options.secret),
    issuer: options.issuer,
    algorithm: (options.algorithm ?? TOTP_DEFAULTS.algorithm).toUpperCase(),
    digits: String(options.digits ?? TOTP_DEFAULTS.digits),
    period: String(options.periodSeconds ?? TOTP_DEFAULTS.periodSeconds),
  });
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.account)}`;
  return `otpauth://totp/${label}?${params.toString().replace(/\+/g, '%20')}`;
}
