import { createHash, randomBytes } from 'node:crypto';
import { postgresPasswordMatches, rabbitPasswordMatches, redisPasswordHash, scramSha256Verifier } from './password-verifiers';

describe('password verifiers', () => {
  it('builds SCRAM-SHA-256 verifiers that check the password they were made from, with a fresh salt each time', () => {
    const verifier = scramSha256Verifier('s3cret-Password_1')!;
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(postgresPasswordMatches(verifier, 's3cret-Password_1', 'role')).toBe(true);
    expect(postgresPasswordMatches(verifier, 's3cret-Password_2', 'role')).toBe(false);
    expect(scramSha256Verifier('s3cret-Password_1')).not.toBe(verifier);
  });

  it("leaves non-ASCII passwords to the server (SASLprep) and reports them as not checkable", () => {
    expect(scramSha256Verifier('pässword')).toBeUndefined();
    expect(postgresPasswordMatches(null, 'x', 'role')).toBe(false);
  });

  it('checks MD5 verifiers (md5 of password + role name)', () => {
    const stored = `md5${createHash('md5').update('pwrf_t_auth').digest('hex')}`;
    expect(postgresPasswordMatches(stored, 'pw', 'rf_t_auth')).toBe(true);
    expect(postgresPasswordMatches(stored, 'pw', 'rf_u_auth')).toBe(false);
  });

  it("checks RabbitMQ's salted hashes", () => {
    const salt = randomBytes(4);
    const hash = (digest: string, password: string) =>
      Buffer.concat([salt, createHash(digest).update(Buffer.concat([salt, Buffer.from(password)])).digest()]).toString('base64');
    expect(rabbitPasswordMatches(hash('sha256', 'pw'), 'rabbit_password_hashing_sha256', 'pw')).toBe(true);
    expect(rabbitPasswordMatches(hash('sha256', 'pw'), 'rabbit_password_hashing_sha256', 'other')).toBe(false);
    expect(rabbitPasswordMatches(hash('sha512', 'pw'), 'rabbit_password_hashing_sha512', 'pw')).toBe(true);
    expect(rabbitPasswordMatches(hash('sha256', 'pw'), 'some_future_algorithm', 'pw')).toBe(false);
    expect(rabbitPasswordMatches(undefined, undefined, 'pw')).toBe(false);
  });

  it("hashes like Redis's ACL GETUSER shows passwords", () => {
    expect(redisPasswordHash('pw')).toBe(createHash('sha256').update('pw').digest('hex'));
  });
});
