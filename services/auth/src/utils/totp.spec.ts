import { base32Decode, base32Encode, hotp, matchTotp, otpauthUri, totp, type TotpAlgorithm } from './totp';

/** RFC 6238 Appendix B: the seed of each algorithm is the ASCII digits repeated to the hash's block-friendly size. */
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890', 'ascii'),
  sha256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};

const RFC6238_VECTORS: Array<[number, string, string, string]> = [
  // time (s), SHA-1, SHA-256, SHA-512 (8 digits, 30-second steps)
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('TOTP (RFC 6238)', () => {
  describe.each(RFC6238_VECTORS)('at T=%i', (time, sha1, sha256, sha512) => {
    it.each([
      ['sha1', sha1],
      ['sha256', sha256],
      ['sha512', sha512],
    ] as Array<[TotpAlgorithm, string]>)('%s gives the RFC code', (algorithm, expected) => {
      expect(totp(SEEDS[algorithm], time, { algorithm, digits: 8 })).toBe(expected);
    });
  });

  it('matches the RFC 4226 HOTP vectors (counter 0..9, 6 digits)', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_code, counter) => hotp(SEEDS.sha1, counter))).toEqual(expected);
  });

  describe('matchTotp', () => {
    const secret = SEEDS.sha1;
    const now = 1_700_000_000;
    const step = Math.floor(now / 30);

    it('accepts the current code and one step either side, returning the step it belongs to', () => {
      expect(matchTotp(secret, totp(secret, now), now)).toBe(step);
      expect(matchTotp(secret, totp(secret, now - 30), now)).toBe(step - 1);
      expect(matchTotp(secret, totp(secret, now + 30), now)).toBe(step + 1);
    });

    it('refuses codes two steps away', () => {
      expect(matchTotp(secret, totp(secret, now - 60), now)).toBeUndefined();
      expect(matchTotp(secret, totp(secret, now + 60), now)).toBeUndefined();
    });

    it('refuses a code of the last used step or an earlier one (no replay within the window)', () => {
      const code = totp(secret, now);
      expect(matchTotp(secret, code, now, { lastUsedStep: step })).toBeUndefined();
      expect(matchTotp(secret, totp(secret, now - 30), now, { lastUsedStep: step - 1 })).toBeUndefined();
      expect(matchTotp(secret, totp(secret, now + 30), now, { lastUsedStep: step })).toBe(step + 1);
    });

    it.each(['', '12345', '1234567', 'abcdef', '12 456', '١٢٣٤٥٦'])('refuses the malformed code %p', (code) => {
      expect(matchTotp(secret, code, now)).toBeUndefined();
    });

    it('refuses a code made with another secret', () => {
      const other = Buffer.from('another-secret-20-by', 'ascii');
      const code = totp(other, now);
      // One in a million chance of a collision with this fixed pair; assert it is not one.
      expect([step - 1, step, step + 1].map((s) => hotp(secret, s))).not.toContain(code);
      expect(matchTotp(secret, code, now)).toBeUndefined();
    });
  });

  describe('base32 (RFC 4648 test vectors, unpadded)', () => {
    it.each([
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ])('%p <-> %p', (plain, encoded) => {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded)?.toString()).toBe(plain);
    });

    it('decodes lower case, padding and blanks, and refuses other characters', () => {
      expect(base32Decode('mzxw 6ytb oi======')?.toString()).toBe('foobar');
      expect(base32Decode('MZXW1')).toBeUndefined();
    });
  });

  it('builds an otpauth:// URI authenticator apps understand', () => {
    const uri = otpauthUri({ issuer: 'RallyForge', account: 'vet+1@example.org', secret: Buffer.from('foobar') });
    expect(uri).toBe(
      'otpauth://totp/RallyForge:vet%2B1%40example.org?secret=MZXW6YTBOI&issuer=RallyForge&algorithm=SHA1&digits=6&period=30',
    );
  });
});
