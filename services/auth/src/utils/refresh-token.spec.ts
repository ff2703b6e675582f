import { createRefreshToken, hashOpaqueToken, parseRefreshToken } from './refresh-token';

describe('refresh tokens', () => {
  it('carries the tenant id and parses back to the stored hash', () => {
    const { token, hash } = createRefreshToken('demo-org');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(parseRefreshToken(token)).toEqual({ tenantId: 'demo-org', hash });
    expect(hashOpaqueToken(token)).toBe(hash);
  });

  it('is different every time', () => {
    expect(createRefreshToken('demo').token).not.toBe(createRefreshToken('demo').token);
  });

  it.each(['', 'garbage', 'rt1.demo', 'rt2.demo.' + 'a'.repeat(43), 'rt1.Demo_X.' + 'a'.repeat(43), 'rt1.demo.short'])(
    'refuses %p',
    (token) => {
      expect(parseRefreshToken(token)).toBeUndefined();
    },
  );
});
