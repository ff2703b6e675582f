import { createHash } from 'node:crypto';
import {
  createEnvironment,
  eventually,
  GOOD_PASSWORD,
  Http,
  insertOrganisation,
  uniqueOrg,
  type AuthEnvironment,
  type RunningAuth,
} from '../test/auth-harness';
import { mailsTo, sleep, startAuthWithMail, tokenIn, type MailCatcher } from '../test/mail-harness';
import { PasswordResetMessages } from './services/password-reset.service';

const NEW_PASSWORD = 'Brand-New-Pass-42';
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe('e-mail verification and password reset (real PostgreSQL, Redis, RabbitMQ, SMTP)', () => {
  let env: AuthEnvironment;
  let auth: RunningAuth;
  let mail: MailCatcher;
  let http: Http;

  beforeAll(async () => {
    env = await createEnvironment('auth_mail');
    // A limit of 4 mail requests per window: enough for the flows, small enough to reach in a test.
    ({ auth, mail } = await startAuthWithMail(env, { MAIL_REQUEST_LIMIT: '4' }));
    http = new Http(auth.url);
  });

  afterAll(async () => {
    await auth?.close();
    await mail?.close();
    await env?.drop();
  });

  /** Registers in a new open organisation and waits for the verification e-mail. */
  async function registered(label: string, email = `${label}@example.org`) {
    const org = uniqueOrg(label);
    await insertOrganisation(env.sql, org, { displayName: `Veterans of ${label}` });
    const response = await http.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
    expect(response.status).toBe(201);
    const verification = await mail.waitFor((m) => m.to.includes(email) && /Confirm your e-mail/.test(m.subject));
    return { org, email, id: response.body.id as string, verification };
  }

  async function login(org: string, email: string, password = GOOD_PASSWORD) {
    return http.post('/login', { organisation: org, email, password });
  }

  describe('verification', () => {
    it('e-mails a single-use token at registration, stores only its hash, and /me shows emailVerified', async () => {
      const { org, email, id, verification } = await registered('verify');
      expect(verification.subject).toBe(`Confirm your e-mail address for Veterans of verify`);
      const token = tokenIn(verification);
      expect(token).toMatch(new RegExp(`^ev1\\.${org}\\.[A-Za-z0-9_-]{43}$`));
      expect(verification.text).toContain(`https://app.example.org/verify-email?token=${token}`);

      // Stored hashed, valid one hour; neither the outbox nor the database holds the token itself.
      const { rows } = await env.sql.query(
        `SELECT token_hash, round(extract(epoch FROM expires_at - created_at)) AS ttl, used_at FROM user_tokens WHERE user_id = $1`,
        [id],
      );
      expect(rows).toEqual([{ token_hash: sha256(token), ttl: '3600', used_at: null }]);
      const outbox = await env.sql.query(`SELECT envelope::text AS body FROM bus_outbox WHERE type = 'auth.email.requested'`);
      expect(outbox.rows.length).toBeGreaterThan(0);
      for (const row of outbox.rows) expect(row.body).not.toContain(token.split('.')[2]);

      const { accessToken } = (await login(org, email)).body;
      expect((await http.get('/me', accessToken)).body.emailVerified).toBe(false);

      expect((await http.post('/verify-email', { token })).status).toBe(204);
      expect((await http.get('/me', accessToken)).body.emailVerified).toBe(true);

      const again = await http.post('/verify-email', { token });
      expect(again.status).toBe(400);
      expect(again.body).toMatchObject({ statusCode: 400, code: 'TOKEN_ALREADY_USED', requestId: expect.any(String) });
    });

    it('refuses unknown, malformed, expired and wrong-kind tokens with a 400 that says what to do', async () => {
      const { id, verification } = await registered('badtoken');
      const token = tokenIn(verification);

      for (const bad of ['nope', `${token}x`, token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), token.replace(/^ev1/, 'pr1')]) {
        const response = await http.post('/verify-email', { token: bad });
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('INVALID_TOKEN');
        expect(response.body.message).toContain('verify-email/resend');
      }
      expect((await http.post('/verify-email', { token: 42 })).body.code).toBe('VALIDATION_FAILED');

      await env.sql.query(
        `UPDATE user_tokens SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE user_id = $1`,
        [id],
      );
      const expired = await http.post('/verify-email', { token });
      expect(expired.status).toBe(400);
      expect(expired.body.code).toBe('TOKEN_EXPIRED');
    });

    it('resends on request (older links stop working), rate-limited with Retry-After, and 409 once verified', async () => {
      const { org, email, verification } = await registered('resend');
      const { accessToken } = (await login(org, email)).body;
      const first = tokenIn(verification);

      const resent = await http.post('/verify-email/resend', {}, accessToken);
      expect(resent.status).toBe(202);
      expect(resent.body).toEqual({ message: expect.stringContaining('verification e-mail') });
      const second = await eventually(async () => mailsTo(mail, email).length === 2 && mailsTo(mail, email)[1]);
      const secondToken = tokenIn(second);
      expect(secondToken).not.toBe(first);
      expect((await http.post('/verify-email', { token: first })).body.code).toBe('INVALID_TOKEN');

      for (let i = 2; i <= 4; i++) expect((await http.post('/verify-email/resend', {}, accessToken)).status).toBe(202);
      const limited = await http.post('/verify-email/resend', {}, accessToken);
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('TOO_MANY_MAIL_REQUESTS');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600);

      const latest = await eventually(async () => mailsTo(mail, email).length === 5 && mailsTo(mail, email)[4]);
      expect((await http.post('/verify-email', { token: tokenIn(latest) })).status).toBe(204);
      const done = await http.post('/verify-email/resend', {}, accessToken);
      expect(done.status).toBe(409);
      expect(done.body.code).toBe('EMAIL_ALREADY_VERIFIED');
      expect((await http.post('/verify-email/resend', {})).status).toBe(401);
    });
  });

  describe('password reset', () => {
    it('answers 202 with one body whether the account, the organisation or neither exists, and e-mails only a real account', async () => {
      const { org, email } = await registered('indisting');
      const ask = (organisation: string, address: string) => http.post('/password-reset/request', { organisation, email: address });

      const outboxBefore = Number((await env.sql.query(`SELECT count(*) FROM bus_outbox WHERE type = 'auth.password_reset.requested'`)).rows[0].count);
      const answers = [await ask(org, email), await ask(org, 'nobody@example.org'), await ask(uniqueOrg('ghost'), email)];
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        expect(answer.body).toEqual({ message: PasswordResetMessages.accepted });
        expect(answer.headers.get('content-length')).toBe(answers[0].headers.get('content-length'));
      }
      // The same work for all three: one outbox row each, looked up later by the consumer (nothing account-specific
      // happens while the request waits, so its timing cannot tell either).
      const outboxAfter = Number((await env.sql.query(`SELECT count(*) FROM bus_outbox WHERE type = 'auth.password_reset.requested'`)).rows[0].count);
      expect(outboxAfter - outboxBefore).toBe(3);

      const reset = await mail.waitFor((m) => m.to.includes(email) && /Reset your RallyForge password/.test(m.subject));
      expect(tokenIn(reset)).toMatch(new RegExp(`^pr1\\.${org}\\.`));
      await sleep(1500);
      expect(mailsTo(mail, 'nobody@example.org')).toHaveLength(0);
      expect(mailsTo(mail, email).filter((m) => /Reset/.test(m.subject))).toHaveLength(1);
    });

    it('sets the new password once, enforces the policy, and revokes every session of the account', async () => {
      const { org, email, id } = await registered('reset');
      const phone = (await login(org, email)).body;
      const laptop = (await login(org, email)).body;

      expect((await http.post('/password-reset/request', { organisation: org, email: email.toUpperCase() })).status).toBe(202);
      const token = tokenIn(await mail.waitFor((m) => m.to.includes(email) && /Reset/.test(m.subject)));
      expect((await env.sql.query(`SELECT token_hash FROM user_tokens WHERE user_id = $1 AND purpose = 'password_reset'`, [id])).rows).toEqual([
        { token_hash: sha256(token) },
      ]);

      const weak = await http.post('/password-reset', { token, password: 'weak' });
      expect(weak.status).toBe(400);
      expect(weak.body.code).toBe('WEAK_PASSWORD');

      expect((await http.post('/password-reset', { token, password: NEW_PASSWORD })).status).toBe(204);
      const reused = await http.post('/password-reset', { token, password: 'Another-Pass-43' });
      expect(reused.status).toBe(400);
      expect(reused.body.code).toBe('TOKEN_ALREADY_USED');

      // Both sessions are over: their refresh tokens no longer work.
      for (const session of [phone, laptop]) {
        const refresh = await http.post('/refresh', { refreshToken: session.refreshToken });
        expect(refresh.status).toBe(401);
      }
      const live = await env.sql.query(`SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, [id]);
      expect(live.rows[0].count).toBe('0');
      expect((await login(org, email)).status).toBe(401);
      const fresh = await login(org, email, NEW_PASSWORD);
      expect(fresh.status).toBe(200);
      // The e-mail reached its owner: the address counts as verified.
      expect((await http.get('/me', fresh.body.accessToken)).body.emailVerified).toBe(true);
    });

    it('refuses an expired reset token and keeps the old password', async () => {
      const { org, email, id } = await registered('expired');
      await http.post('/password-reset/request', { organisation: org, email });
      const token = tokenIn(await mail.waitFor((m) => m.to.includes(email) && /Reset/.test(m.subject)));
      await env.sql.query(
        `UPDATE user_tokens SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
         WHERE user_id = $1 AND purpose = 'password_reset'`,
        [id],
      );
      const expired = await http.post('/password-reset', { token, password: NEW_PASSWORD });
      expect(expired.status).toBe(400);
      expect(expired.body.code).toBe('TOKEN_EXPIRED');
      expect(expired.body.message).toContain('password-reset/request');
      expect((await login(org, email)).status).toBe(200);
      expect((await http.post('/password-reset', { token: 'pr1.x.y', password: NEW_PASSWORD })).body.code).toBe('INVALID_TOKEN');
    });

    it('limits reset requests per organisation and address, for unknown addresses too', async () => {
      const org = uniqueOrg('limit');
      await insertOrganisation(env.sql, org);
      const ask = () => http.post('/password-reset/request', { organisation: org, email: 'unknown@example.org' });
      for (let i = 0; i < 4; i++) expect((await ask()).status).toBe(202);
      const limited = await ask();
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('TOO_MANY_MAIL_REQUESTS');
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      // Another address of the same organisation is not affected.
      expect((await http.post('/password-reset/request', { organisation: org, email: 'other@example.org' })).status).toBe(202);
    });
  });
});
