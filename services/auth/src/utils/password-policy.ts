/** What a password must contain (seed security checklist: 8+ chars, an upper-case letter, a number, a special character). */
export interface PasswordPolicy {
  /** @default 8 (`PASSWORD_MIN_LENGTH`) */
  readonly minLength: number;
  /** Upper bound so that hashing cost stays bounded; argon2 accepts more but nobody types 256 characters. */
  readonly maxLength: number;
}

export const DEFAULT_PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

/** Returns the rules the password breaks, as sentences for the error message; empty when it is acceptable. */
export function passwordPolicyViolations(password: string, policy: PasswordPolicy): string[] {
  const violations: string[] = [];
  const length = [...password].length;
  if (length < policy.minLength) violations.push(`at least ${policy.minLength} characters`);
  if (length > policy.maxLength) violations.push(`at most ${policy.maxLength} characters`);
  if (!/\p{Lu}/u.test(password)) violations.push('an upper-case letter');
  if (!/\p{Nd}/u.test(password)) violations.push('a number');
  if (!/[^\p{L}\p{Nd}\s]/u.test(password)) violations.push('a special character (for example ! ? # $ %)');
  return violations;
}
