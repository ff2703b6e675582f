import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, KeyEncryptionErrors, parseKeyEncryptionKey } from './key-encryption';

describe('key encryption', () => {
  const kek = randomBytes(32);
  const secret = Buffer.from('a private key in pkcs8');

  it('round-trips with the same key and associated data', () => {
    const sealed = encryptSecret(secret, kek, 'kid-1');
    expect(sealed.includes(secret)).toBe(false);
    expect(decryptSecret(sealed, kek, 'kid-1')).toEqual(secret);
  });

  it('uses a fresh IV every time', () => {
    expect(encryptSecret(secret, kek, 'kid-1').equals(encryptSecret(secret, kek, 'kid-1'))).toBe(false);
  });

  it('refuses another key, another kid, or tampered bytes', () => {
    const sealed = encryptSecret(secret, kek, 'kid-1');
    expect(() => decryptSecret(sealed, randomBytes(32), 'kid-1')).toThrow();
    expect(() => decryptSecret(sealed, kek, 'kid-2')).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 0xff;
    expect(() => decryptSecret(tampered, kek, 'kid-1')).toThrow();
  });

  it('refuses unknown format versions and truncated input', () => {
    const sealed = encryptSecret(secret, kek, 'kid-1');
    sealed[0] = 0x02;
    expect(() => decryptSecret(sealed, kek, 'kid-1')).toThrow(KeyEncryptionErrors.unknownFormat);
    expect(() => decryptSecret(Buffer.alloc(10), kek, 'kid-1')).toThrow(KeyEncryptionErrors.tooShort);
  });

  it('accepts only a 32-byte base64 key-encryption key', () => {
    expect(parseKeyEncryptionKey(randomBytes(32).toString('base64'))).toHaveLength(32);
    expect(() => parseKeyEncryptionKey(randomBytes(16).toString('base64'))).toThrow(KeyEncryptionErrors.wrongLength);
  });
});
