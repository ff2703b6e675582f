import { passwordPolicyViolations } from './password-policy';

describe('passwordPolicyViolations', () => {
  const policy = { minLength: 8, maxLength: 256 };

  it('accepts a password with length, upper case, a number and a special character', () => {
    expect(passwordPolicyViolations('Sup3r$ecret', policy)).toEqual([]);
  });

  it.each([
    ['Sh0rt!', 'at least 8 characters'],
    ['lowercase1!', 'an upper-case letter'],
    ['NoNumbers!!', 'a number'],
    ['NoSpecial123', 'a special character (for example ! ? # $ %)'],
  ])('rejects %p for missing %s', (password, rule) => {
    expect(passwordPolicyViolations(password, policy)).toEqual([rule]);
  });

  it('honours a configured minimum length', () => {
    expect(passwordPolicyViolations('Sup3r$ecret', { minLength: 12, maxLength: 256 })).toEqual(['at least 12 characters']);
  });

  it('lists every broken rule', () => {
    expect(passwordPolicyViolations('abc', policy)).toHaveLength(4);
  });

  it('does not count whitespace as a special character', () => {
    expect(passwordPolicyViolations('Passw0rd with space', policy)).toEqual(['a special character (for example ! ? # $ %)']);
  });
});
