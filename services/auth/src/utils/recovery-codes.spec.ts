import {
  createRecoveryCode,
  createRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
} from './recovery-codes';

describe('recovery codes', () => {
  it('creates ten distinct codes shaped xxxx-xxxx-xxxx-xxxx', () => {
    const codes = createRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
  });

  it('normalises what people type: case, blanks, dashes and look-alike letters', () => {
    const code = createRecoveryCode();
    const canonical = code.replace(/-/g, '');
    expect(normaliseRecoveryCode(code)).toBe(canonical);
    expect(normaliseRecoveryCode(` ${code.toUpperCase()} `)).toBe(canonical);
    expect(normaliseRecoveryCode(canonical)).toBe(canonical);
    expect(normaliseRecoveryCode('abcd-efgh-jkmn-pqrs'.replace('a', 'o').replace('b', 'I'))).toBe('01cdefghjkmnpqrs');
  });

  it.each(['', '123456', 'abcd-efgh-jkmn-pqr', 'abcd-efgh-jkmn-pqrst', 'abcd-efgh-jkmn-pqr!', 'uuuu-uuuu-uuuu-uuuu'])(
    'refuses %p',
    (input) => {
      expect(normaliseRecoveryCode(input)).toBeUndefined();
    },
  );

  it('hashes per user: the same code of two users has two hashes', () => {
    expect(hashRecoveryCode('user-a', 'abcd')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode('user-a', 'abcd')).toBe(hashRecoveryCode('user-a', 'abcd'));
    expect(hashRecoveryCode('user-a', 'abcd')).not.toBe(hashRecoveryCode('user-b', 'abcd'));
  });
});
