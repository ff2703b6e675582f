import { randomBytes } from 'node:crypto';
import {
  createEnvironment,
  GOOD_PASSWORD,
  Http,
  insertOrganisation,
  startAuth,
  uniqueOrg,
  type AuthEnvironment,
  type RunningAuth,
} from '../test/auth-harness';
import { LoginHistoryService } from './services/login-history.service';
import { SecurityEventsService } from './services/security-events.service';
import { base32Decode, totp } from './utils/totp';

/** Response bodies are asserted field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const errorShape = (statusCode: number, code: string) => ({
  statusCode,
  code,
  message: expect.any(String),
  requestId: expect.any(String),
});

/** A random address in 10/8 per call: the per-IP counters live in the shared Redis across files and runs. */
const randomIp = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

/**
 * The kit's general per-address limit (60 requests a minute) is another feature with its own tests; every file here
 * talks from 127.0.0.1 to one shared Redis, so it is off, and only auth's login limits answer.
 */
const KIT_LIMITS_OFF = { RATE_LIMIT_IP_PER_MINUTE: '0', RATE_LIMIT_USER_PER_MINUTE: '0' };

/** A code of the authenticator `secret` (base32) `offsetSteps` steps from now. */
function codeFor(secret: string, offsetSteps = 0): string {
  return totp(base32Decode(secret)!, Math.floor(Date.now() / 1000) + offsetSteps * 30);
}

/** Tests that depend on which 30-second step "now" is in wait until they are clear of a step boundary. */
async function awayFromStepBoundary(marginSeconds = 4): Promise<void> {
  const intoStep = (Date.now() / 1000) % 30;
  if (intoStep > 30 - marginSeconds) await new Promise((resolve) => setTimeout(resolve, (30 - intoStep + 0.5) * 1000));
}

/** A client with its own address and user agent, as the gateway would forward them. */
class Device {
  readonly ip = randomIp();
  constructor(
    private readonly http: Http,
    readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  ) {}

  request(method: string, path: string, body?: unknown, token?: string) {
    return this.http.request(method, path, {
      body,
      token,
      headers: { 'x-forwarded-for': this.ip, 'user-agent': this.userAgent },
    });
  }

  login(organisation: string, email: string, password = GOOD_PASSWORD) {
    return this.request('POST', '/login', { organisation, email, password });
  }
}

describe('account security: two-factor authentication, sessions, login history, login rate limits', () => {
  let env: AuthEnvironment;
  let auth: RunningAuth;
  let http: Http;

  beforeAll(async () => {
    env = await createEnvironment('auth_account_security');
    auth = await startAuth(env, KIT_LIMITS_OFF);
    http = new Http(auth.url);
  });

  afterAll(async () => {
    await auth?.close();
    await env?.drop();
  });

  /** A new open organisation with one registered veteran; `login` logs in from a fresh device. */
  async function veteran(label: string, server: Http = http) {
    const org = uniqueOrg(label);
    const email = `${label}@example.org`;
    await insertOrganisation(env.sql, org);
    const registered = await server.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
    expect({ status: registered.status, body: registered.body }).toMatchObject({ status: 201 });
    return { org, email, id: registered.body.id as string };
  }

  async function loggedIn(label: string) {
    const account = await veteran(label);
    const device = new Device(http);
    const login = await device.login(account.org, account.email);
    expect(login.status).toBe(200);
    return { ...account, device, tokens: login.body as Json };
  }

  /** Enrols and confirms 2FA; returns the secret and the recovery codes. */
  async function withTwoFactor(label: string) {
    const account = await loggedIn(label);
    const access = account.tokens.accessToken;
    const enrolment = await http.post('/me/2fa/enrol', {}, access);
    expect(enrolment.status).toBe(200);
    await awayFromStepBoundary();
    // Confirm with the previous step's code, so the current and the next step stay free for the test's logins.
    const confirmed = await http.post('/me/2fa/confirm', { code: codeFor(enrolment.body.secret, -1) }, access);
    expect(confirmed.status).toBe(200);
    return { ...account, secret: enrolment.body.secret as string, recoveryCodes: confirmed.body.recoveryCodes as string[] };
  }

  const history = async (token: string, query = '') => {
    await auth.app.get(LoginHistoryService).settled();
    return http.get(`/me/logins${query}`, token);
  };

  describe('two-factor authentication (TOTP)', () => {
    it('enrols with an otpauth:// URI and a base32 secret stored encrypted, inactive until confirmed', async () => {
      const { org, email, id, tokens } = await loggedIn('enrol');
      const enrolment = await http.post('/me/2fa/enrol', {}, tokens.accessToken);
      expect(enrolment.status).toBe(200);
      const { secret, otpauthUri } = enrolment.body;
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(otpauthUri).toBe(
        `otpauth://totp/RallyForge:${encodeURIComponent(email)}?secret=${secret}&issuer=RallyForge&algorithm=SHA1&digits=6&period=30`,
      );

      const { rows } = await env.sql.query('SELECT tenant_id, secret_encrypted, enabled_at FROM user_mfa WHERE user_id = $1', [id]);
      expect(rows).toHaveLength(1);
      expect(rows[0].tenant_id).toBe(org);
      expect(rows[0].enabled_at).toBeNull();
      const sealed: Buffer = rows[0].secret_encrypted;
      expect(sealed[0]).toBe(0x01);
      expect(sealed.includes(base32Decode(secret)!)).toBe(false);

      expect((await http.get('/me/2fa', tokens.accessToken)).body).toEqual({ enabled: false, pending: true, recoveryCodesRemaining: 0 });
      // Not confirmed: the password alone still logs in.
      const login = await new Device(http).login(org, email);
      expect(login.status).toBe(200);
      expect(login.body.accessToken).toEqual(expect.any(String));
    });

    it('confirms only with a valid code, then returns 10 recovery codes stored as hashes', async () => {
      const { id, tokens } = await loggedIn('confirm');
      const access = tokens.accessToken;
      expect((await http.post('/me/2fa/confirm', { code: '123456' }, access)).body).toEqual(errorShape(409, 'TWO_FACTOR_NOT_ENROLLED'));
      const { body } = await http.post('/me/2fa/enrol', {}, access);

      await awayFromStepBoundary();
      const wrong = await http.post('/me/2fa/confirm', { code: codeFor(body.secret, 3) }, access);
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual(errorShape(400, 'INVALID_TWO_FACTOR_CODE'));
      expect((await http.post('/me/2fa/confirm', { code: 'abc' }, access)).status).toBe(400);

      const confirmed = await http.post('/me/2fa/confirm', { code: codeFor(body.secret) }, access);
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.recoveryCodes).toHaveLength(10);
      expect(new Set(confirmed.body.recoveryCodes).size).toBe(10);
      expect((await http.get('/me/2fa', access)).body).toEqual({ enabled: true, pending: false, recoveryCodesRemaining: 10 });

      const { rows } = await env.sql.query('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = $1', [id]);
      expect(rows).toHaveLength(10);
      const stored = rows.map((row: Json) => row.code_hash as string).join(' ');
      for (const code of confirmed.body.recoveryCodes as string[]) {
        expect(stored).not.toContain(code.replace(/-/g, ''));
      }
      // Enrolling again would replace a working authenticator: refused.
      expect((await http.post('/me/2fa/enrol', {}, access)).body).toEqual(errorShape(409, 'TWO_FACTOR_ALREADY_ENABLED'));
    });

    it('makes login two-step: the password earns a 5-minute single-use challenge, the code earns the tokens', async () => {
      const { org, email, secret } = await withTwoFactor('two-step');
      const device = new Device(http, 'curl/8.5.0');
      const first = await device.login(org, email);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ mfaRequired: true, mfaToken: expect.stringMatching(/^mfa1\./), expiresIn: 300, methods: ['totp', 'recovery_code'] });
      expect(first.body.accessToken).toBeUndefined();

      const code = codeFor(secret);
      const second = await device.request('POST', '/login/mfa', { mfaToken: first.body.mfaToken, code });
      expect(second.status).toBe(200);
      expect(second.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: 900, tokenType: 'Bearer' });
      expect((await http.get('/me', second.body.accessToken)).status).toBe(200);

      // The challenge is spent.
      const again = await device.request('POST', '/login/mfa', { mfaToken: first.body.mfaToken, code: codeFor(secret, 1) });
      expect(again.status).toBe(401);
      expect(again.body).toEqual(errorShape(401, 'MFA_CHALLENGE_INVALID'));

      // The same code on a new challenge: refused within its window (no replay).
      const next = await device.login(org, email);
      const replay = await device.request('POST', '/login/mfa', { mfaToken: next.body.mfaToken, code });
      expect(replay.status).toBe(401);
      expect(replay.body).toEqual(errorShape(401, 'INVALID_MFA_CODE'));
      // One step ahead is within the accepted drift.
      const ahead = await device.request('POST', '/login/mfa', { mfaToken: next.body.mfaToken, code: codeFor(secret, 1) });
      expect(ahead.status).toBe(200);
    });

    it('accepts ±1 time step and nothing further', async () => {
      const { org, email, secret } = await withTwoFactor('drift');
      const device = new Device(http);
      const challenge = (await device.login(org, email)).body.mfaToken;
      for (const offset of [-3, 2, 3]) {
        const response = await device.request('POST', '/login/mfa', { mfaToken: challenge, code: codeFor(secret, offset) });
        expect(response.body).toEqual(errorShape(401, 'INVALID_MFA_CODE'));
      }
      // confirm used step -1; the current step is still free.
      expect((await device.request('POST', '/login/mfa', { mfaToken: challenge, code: codeFor(secret, 0) })).status).toBe(200);
    });

    it('logs in with a recovery code once; the code is spent and the history says how', async () => {
      const { org, email, recoveryCodes, tokens } = await withTwoFactor('recovery');
      const device = new Device(http);
      const challenge = (await device.login(org, email)).body.mfaToken;
      const recovered = await device.request('POST', '/login/mfa', { mfaToken: challenge, code: recoveryCodes[3]!.toUpperCase() });
      expect(recovered.status).toBe(200);
      expect((await http.get('/me/2fa', recovered.body.accessToken)).body.recoveryCodesRemaining).toBe(9);

      const next = (await device.login(org, email)).body.mfaToken;
      const reused = await device.request('POST', '/login/mfa', { mfaToken: next, code: recoveryCodes[3] });
      expect(reused.status).toBe(401);
      expect(reused.body).toEqual(errorShape(401, 'INVALID_MFA_CODE'));
      expect((await device.request('POST', '/login/mfa', { mfaToken: next, code: recoveryCodes[4] })).status).toBe(200);

      const page = await history(tokens.accessToken);
      const results = page.body.items.map((item: Json) => [item.result, item.mfaMethod]);
      expect(results.slice(0, 5)).toEqual([
        ['success', 'recovery_code'],
        ['mfa_failed', null],
        ['mfa_required', null],
        ['success', 'recovery_code'],
        ['mfa_required', null],
      ]);
    });

    it('counts wrong codes toward the lockout: 5 wrong codes lock the account (429 with Retry-After)', async () => {
      const { org, email, secret } = await withTwoFactor('mfa-lock');
      const device = new Device(http);
      const first = (await device.login(org, email)).body.mfaToken;
      const second = (await device.login(org, email)).body.mfaToken;
      for (let attempt = 0; attempt < 5; attempt++) {
        const wrong = await device.request('POST', '/login/mfa', { mfaToken: first, code: codeFor(secret, 5 + attempt) });
        expect(wrong.body).toEqual(errorShape(401, 'INVALID_MFA_CODE'));
      }
      // The other challenge, with a right code: the account is locked.
      const locked = await device.request('POST', '/login/mfa', { mfaToken: second, code: codeFor(secret) });
      expect(locked.status).toBe(429);
      expect(locked.body).toEqual(errorShape(429, 'TOO_MANY_LOGIN_ATTEMPTS'));
      const retryAfter = Number(locked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      // And so is the password step.
      const password = await device.login(org, email);
      expect(password.status).toBe(429);
      expect(password.body).toEqual(errorShape(429, 'TOO_MANY_LOGIN_ATTEMPTS'));
      expect(Number(password.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('disables only with the password and a current code; logins are one step again', async () => {
      const { org, email, id, secret, tokens } = await withTwoFactor('disable');
      const access = tokens.accessToken;
      const wrongPassword = await http.post('/me/2fa/disable', { password: 'Wrong-Password-1', code: codeFor(secret) }, access);
      expect(wrongPassword.status).toBe(403);
      expect(wrongPassword.body).toEqual(errorShape(403, 'REAUTHENTICATION_FAILED'));
      const wrongCode = await http.post('/me/2fa/disable', { password: GOOD_PASSWORD, code: codeFor(secret, 4) }, access);
      expect(wrongCode.body).toEqual(errorShape(403, 'REAUTHENTICATION_FAILED'));
      expect((await http.post('/me/2fa/disable', { password: GOOD_PASSWORD }, access)).status).toBe(400);

      const disabled = await http.post('/me/2fa/disable', { password: GOOD_PASSWORD, code: codeFor(secret) }, access);
      expect(disabled.status).toBe(204);
      expect((await http.get('/me/2fa', access)).body).toEqual({ enabled: false, pending: false, recoveryCodesRemaining: 0 });
      const rows = await env.sql.query(
        'SELECT (SELECT count(*) FROM user_mfa WHERE user_id = $1) AS mfa, (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1) AS codes',
        [id],
      );
      expect(rows.rows[0]).toEqual({ mfa: '0', codes: '0' });
      expect((await http.post('/me/2fa/disable', { password: GOOD_PASSWORD, code: codeFor(secret, 1) }, access)).body).toEqual(
        errorShape(409, 'TWO_FACTOR_NOT_ENABLED'),
      );
      const login = await new Device(http).login(org, email);
      expect(login.status).toBe(200);
      expect(login.body.accessToken).toEqual(expect.any(String));
    });

    it('regenerates recovery codes: the old ones stop working, the new ones work', async () => {
      const { org, email, secret, recoveryCodes, tokens } = await withTwoFactor('regen');
      const regenerated = await http.post('/me/2fa/recovery-codes', { code: codeFor(secret) }, tokens.accessToken);
      expect(regenerated.status).toBe(200);
      expect(regenerated.body.recoveryCodes).toHaveLength(10);
      expect(regenerated.body.recoveryCodes).not.toContain(recoveryCodes[0]);
      const device = new Device(http);
      const challenge = (await device.login(org, email)).body.mfaToken;
      expect((await device.request('POST', '/login/mfa', { mfaToken: challenge, code: recoveryCodes[0] })).status).toBe(401);
      expect((await device.request('POST', '/login/mfa', { mfaToken: challenge, code: regenerated.body.recoveryCodes[0] })).status).toBe(200);
    });

    it('refuses malformed, unknown and tampered challenges (401) and bad bodies (400)', async () => {
      const { org } = await withTwoFactor('bad-challenge');
      for (const mfaToken of ['garbage', `mfa1.${org}.${'A'.repeat(43)}`, `mfa1.Bad_Org.${'A'.repeat(43)}`]) {
        const response = await http.post('/login/mfa', { mfaToken, code: '123456' });
        expect(response.status).toBe(401);
        expect(response.body).toEqual(errorShape(401, 'MFA_CHALLENGE_INVALID'));
      }
      expect((await http.post('/login/mfa', { mfaToken: 'x', code: '1', extra: true })).status).toBe(400);
      expect((await http.post('/login/mfa', { mfaToken: 'x', code: 'x'.repeat(1000) })).status).toBe(400);
    });
  });

  describe('sessions', () => {
    it('lists one session per login with address, device and the current one marked; refresh updates it', async () => {
      const { org, email, tokens, device } = await loggedIn('sessions');
      const phone = new Device(
        http,
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      );
      const onPhone = (await phone.login(org, email)).body;

      const listed = await http.get('/me/sessions', tokens.accessToken);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toHaveLength(2);
      const [latest, older] = listed.body.items;
      expect(latest).toEqual({
        id: expect.any(String),
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        ip: phone.ip,
        userAgent: phone.userAgent,
        device: 'Safari on iOS',
        current: false,
      });
      expect(older).toMatchObject({ ip: device.ip, device: 'Firefox on Linux', current: true });

      // A refresh from the phone at a new address: same session, new last use and address.
      const moved = new Device(http, phone.userAgent);
      const refreshed = await moved.request('POST', '/refresh', { refreshToken: onPhone.refreshToken });
      expect(refreshed.status).toBe(200);
      const after = await http.get('/me/sessions', refreshed.body.accessToken);
      expect(after.body.items).toHaveLength(2);
      const phoneSession = after.body.items.find((item: Json) => item.id === latest.id);
      expect(phoneSession).toMatchObject({ ip: moved.ip, current: true, createdAt: latest.createdAt });
      expect(Date.parse(phoneSession.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(latest.lastUsedAt));
    });

    it('revokes one session: its refresh token stops working, the others keep working', async () => {
      const { org, email, tokens } = await loggedIn('revoke-one');
      const other = (await new Device(http).login(org, email)).body;
      const sessions = (await http.get('/me/sessions', tokens.accessToken)).body.items;
      const otherSession = sessions.find((item: Json) => !item.current);

      const revoked = await http.request('DELETE', `/me/sessions/${otherSession.id}`, { token: tokens.accessToken });
      expect(revoked.status).toBe(204);
      const refresh = await http.post('/refresh', { refreshToken: other.refreshToken });
      expect(refresh.status).toBe(401);
      expect(refresh.body).toEqual(errorShape(401, 'INVALID_REFRESH_TOKEN'));
      expect((await http.get('/me/sessions', tokens.accessToken)).body.items.map((item: Json) => item.id)).not.toContain(otherSession.id);
      expect((await http.post('/refresh', { refreshToken: tokens.refreshToken })).status).toBe(200);

      // Already revoked, or not a session id: 404.
      for (const id of [otherSession.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
        const again = await http.request('DELETE', `/me/sessions/${id}`, { token: tokens.accessToken });
        expect(again.status).toBe(404);
        expect(again.body).toEqual(errorShape(404, 'SESSION_NOT_FOUND'));
      }
    });

    it("cannot see or revoke another user's session (404), in the same organisation or another", async () => {
      const mine = await loggedIn('mine');
      const theirs = await loggedIn('theirs');
      const theirSession = (await http.get('/me/sessions', theirs.tokens.accessToken)).body.items[0].id;
      const attempt = await http.request('DELETE', `/me/sessions/${theirSession}`, { token: mine.tokens.accessToken });
      expect(attempt.status).toBe(404);
      expect((await http.post('/refresh', { refreshToken: theirs.tokens.refreshToken })).status).toBe(200);
      expect((await http.get('/me/sessions', mine.tokens.accessToken)).body.items.map((item: Json) => item.id)).not.toContain(theirSession);
    });

    it('logs out the current session with DELETE /me/sessions/current', async () => {
      const { tokens } = await loggedIn('logout-current');
      expect((await http.request('DELETE', '/me/sessions/current', { token: tokens.accessToken })).status).toBe(204);
      expect((await http.post('/refresh', { refreshToken: tokens.refreshToken })).body).toEqual(errorShape(401, 'INVALID_REFRESH_TOKEN'));
      expect((await http.get('/me/sessions', tokens.accessToken)).body.items).toEqual([]);
    });

    it('logs out from all devices: every refresh token of the user is revoked', async () => {
      const { org, email, tokens } = await loggedIn('logout-all');
      const others = [(await new Device(http).login(org, email)).body, (await new Device(http).login(org, email)).body];
      const bystander = await loggedIn('bystander');
      expect((await http.get('/me/sessions', tokens.accessToken)).body.items).toHaveLength(3);

      expect((await http.request('DELETE', '/me/sessions', { token: tokens.accessToken })).status).toBe(204);
      for (const refreshToken of [tokens.refreshToken, ...others.map((pair) => pair.refreshToken)]) {
        const refresh = await http.post('/refresh', { refreshToken });
        expect(refresh.status).toBe(401);
        expect(refresh.body).toEqual(errorShape(401, 'INVALID_REFRESH_TOKEN'));
      }
      expect((await http.get('/me/sessions', tokens.accessToken)).body.items).toEqual([]);
      // Nobody else is logged out.
      expect((await http.post('/refresh', { refreshToken: bystander.tokens.refreshToken })).status).toBe(200);
    });

    it('drops a session from the list when refresh-token reuse revoked its family, and after POST /logout', async () => {
      const { org, email, tokens } = await loggedIn('reuse');
      const second = (await new Device(http).login(org, email)).body;
      expect((await http.post('/refresh', { refreshToken: second.refreshToken })).status).toBe(200);
      expect((await http.post('/refresh', { refreshToken: second.refreshToken })).body).toEqual(errorShape(401, 'REFRESH_TOKEN_REUSED'));
      expect((await http.get('/me/sessions', tokens.accessToken)).body.items).toHaveLength(1);
      expect((await http.post('/logout', { refreshToken: tokens.refreshToken })).status).toBe(204);
      expect((await http.get('/me/sessions', tokens.accessToken)).body.items).toEqual([]);
    });
  });

  describe('login history', () => {
    it('records every attempt of an existing account, newest first, paginated; unknown accounts leave nothing', async () => {
      const { org, email, id } = await veteran('history');
      const device = new Device(http, 'curl/8.5.0');
      expect((await device.login(org, email, 'Wrong-Password-1')).status).toBe(401);
      const success = await device.login(org, email);
      expect(success.status).toBe(200);
      expect((await device.login(org, 'nobody@example.org', 'Wrong-Password-1')).status).toBe(401);
      await env.sql.query('UPDATE organisations SET suspended = true WHERE id = $1', [org]);
      expect((await device.login(org, email)).status).toBe(403);
      await env.sql.query('UPDATE organisations SET suspended = false WHERE id = $1', [org]);

      const page = await history(success.body.accessToken);
      expect(page.status).toBe(200);
      expect(page.body.items.map((item: Json) => item.result)).toEqual(['organisation_suspended', 'success', 'wrong_password']);
      expect(page.body.items[1]).toEqual({
        id: expect.any(String),
        occurredAt: expect.any(String),
        result: 'success',
        mfaMethod: null,
        ip: device.ip,
        userAgent: 'curl/8.5.0',
        device: 'curl',
      });
      expect(page.body.nextCursor).toBeNull();
      const times = page.body.items.map((item: Json) => Date.parse(item.occurredAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const { rows } = await env.sql.query('SELECT DISTINCT user_id FROM login_history WHERE tenant_id = $1', [org]);
      expect(rows).toEqual([{ user_id: id }]);

      const first = await history(success.body.accessToken, '?limit=2');
      expect(first.body.items.map((item: Json) => item.result)).toEqual(['organisation_suspended', 'success']);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await history(success.body.accessToken, `?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items.map((item: Json) => item.result)).toEqual(['wrong_password']);
      expect(second.body.nextCursor).toBeNull();
    });

    it('records attempts refused by the lockout', async () => {
      const { org, email } = await veteran('history-lock');
      const device = new Device(http);
      for (let attempt = 0; attempt < 5; attempt++) await device.login(org, email, 'Wrong-Password-1');
      expect((await device.login(org, email)).status).toBe(429);
      await auth.app.get(LoginHistoryService).settled();
      const { rows } = await env.sql.query(`SELECT result FROM login_history WHERE tenant_id = $1 ORDER BY occurred_at`, [org]);
      expect(rows.map((row: Json) => row.result)).toEqual([...Array(5).fill('wrong_password'), 'locked']);
    });

    it("shows only the caller's own history and refuses a forged cursor", async () => {
      const a = await loggedIn('history-a');
      const b = await loggedIn('history-b');
      const pageA = await history(a.tokens.accessToken);
      const pageB = await history(b.tokens.accessToken);
      expect(pageA.body.items).toHaveLength(1);
      expect(pageB.body.items).toHaveLength(1);
      expect(pageA.body.items[0].id).not.toBe(pageB.body.items[0].id);
      const forged = await history(a.tokens.accessToken, `?cursor=${Buffer.from('nonsense').toString('base64url')}`);
      expect(forged.body).toEqual(errorShape(400, 'INVALID_CURSOR'));
      expect((await history(a.tokens.accessToken, '?limit=1000')).status).toBe(400);
      expect((await http.get('/me/logins')).status).toBe(401);
    });
  });

  it('documents the new routes and both login answers in the OpenAPI document', async () => {
    const document = await http.get('/docs-json');
    expect(document.status).toBe(200);
    const paths = Object.keys(document.body.paths);
    for (const path of ['/login/mfa', '/me/2fa', '/me/2fa/enrol', '/me/2fa/confirm', '/me/2fa/disable', '/me/2fa/recovery-codes', '/me/sessions', '/me/sessions/{id}', '/me/logins']) {
      expect(paths).toContain(`/api/v1/auth${path}`);
    }
    const login = document.body.paths['/api/v1/auth/login'].post.responses['200'].content['application/json'].schema;
    expect(login.oneOf.map((entry: Json) => entry.$ref)).toEqual(['#/components/schemas/TokenPairDto', '#/components/schemas/MfaChallengeDto']);
  });

  describe('audit log', () => {
    it('records 2FA, recovery code, session and logout-all events with who, what, IP and result', async () => {
      const { org, email, id, secret, recoveryCodes, tokens } = await withTwoFactor('audited');
      const device = new Device(http);
      const challenge = (await device.login(org, email)).body.mfaToken;
      const recovered = await device.request('POST', '/login/mfa', { mfaToken: challenge, code: recoveryCodes[0] });
      expect(recovered.status).toBe(200);
      expect((await http.post('/me/2fa/recovery-codes', { code: codeFor(secret) }, tokens.accessToken)).status).toBe(200);
      const other = (await http.get('/me/sessions', tokens.accessToken)).body.items.find((item: Json) => !item.current);
      expect((await http.request('DELETE', `/me/sessions/${other.id}`, { token: tokens.accessToken })).status).toBe(204);
      expect((await http.request('DELETE', '/me/sessions', { token: tokens.accessToken })).status).toBe(204);
      expect((await http.post('/me/2fa/disable', { password: GOOD_PASSWORD, code: codeFor(secret, 1) }, tokens.accessToken)).status).toBe(204);

      await auth.app.get(SecurityEventsService).settled();
      const { rows } = await env.sql.query(
        `SELECT actor_kind, actor_id, action, target_type, target_id, result, ip, details
           FROM audit_events WHERE tenant_id = $1 AND action LIKE 'auth.%' ORDER BY occurred_at, recorded_at`,
        [org],
      );
      const byAction = Object.fromEntries(rows.map((row: Json) => [row.action, row]));
      expect(Object.keys(byAction)).toEqual(
        expect.arrayContaining([
          'auth.mfa_enabled',
          'auth.mfa_code_used',
          'auth.mfa_codes_regenerated',
          'auth.session_revoked',
          'auth.logout_all',
          'auth.mfa_disabled',
        ]),
      );
      for (const row of rows.filter((r: Json) => r.action.startsWith('auth.mfa') || r.action.startsWith('auth.session') || r.action === 'auth.logout_all')) {
        expect(row).toMatchObject({ actor_kind: 'user', actor_id: id, result: 'success' });
      }
      expect(byAction['auth.mfa_code_used']).toMatchObject({ ip: device.ip, details: { remaining: 9 } });
      expect(byAction['auth.session_revoked']).toMatchObject({ target_type: 'session', target_id: other.id });
      expect(byAction['auth.logout_all'].details).toEqual({ sessions: 1 });
      // Nothing secret in the trail.
      const trail = JSON.stringify(rows);
      for (const code of recoveryCodes) expect(trail).not.toContain(code);
      expect(trail).not.toContain(secret);
    });
  });

  describe('login rate limits (Redis, shared by replicas)', () => {
    let replicaA: RunningAuth;
    let replicaB: RunningAuth;
    let a: Http;
    let b: Http;

    beforeAll(async () => {
      // The seed's limits, with the lockout out of the way so that only the rate limits answer.
      const limits = { ...KIT_LIMITS_OFF, LOGIN_RATE_LIMIT_MAX_PER_IP: '5', LOGIN_RATE_LIMIT_MAX_PER_ACCOUNT: '5', LOGIN_MAX_FAILURES: '1000' };
      replicaA = await startAuth(env, limits);
      replicaB = await startAuth(env, limits);
      a = new Http(replicaA.url);
      b = new Http(replicaB.url);
    });

    afterAll(async () => {
      await replicaA?.close();
      await replicaB?.close();
    });

    const from = (server: Http, ip: string, body: unknown) =>
      server.request('POST', '/login', { body, headers: { 'x-forwarded-for': ip } });

    it('allows 5 attempts per IP across replicas, then answers 429 LOGIN_RATE_LIMITED with Retry-After', async () => {
      const ip = randomIp();
      const { org, email } = await veteran('ip-limit', a);
      for (let attempt = 0; attempt < 5; attempt++) {
        // Different accounts (unknown ones too), alternating replicas: the counter is per address, in Redis.
        const response = await from(attempt % 2 ? a : b, ip, { organisation: org, email: `x${attempt}@example.org`, password: 'Wrong-Password-1' });
        expect(response.status).toBe(401);
      }
      const limited = await from(a, ip, { organisation: org, email, password: GOOD_PASSWORD });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual(errorShape(429, 'LOGIN_RATE_LIMITED'));
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(850);
      expect(retryAfter).toBeLessThanOrEqual(900);
      // Another address is not affected.
      expect((await from(b, randomIp(), { organisation: org, email, password: GOOD_PASSWORD })).status).toBe(200);
    });

    it('allows 5 attempts per account whatever the address, then 429 even with the right password', async () => {
      const { org, email } = await veteran('acct-limit', a);
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await from(attempt % 2 ? a : b, randomIp(), { organisation: org, email, password: 'Wrong-Password-1' });
        expect(response.status).toBe(401);
      }
      const limited = await from(b, randomIp(), { organisation: org, email, password: GOOD_PASSWORD });
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual(errorShape(429, 'LOGIN_RATE_LIMITED'));
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      await Promise.all(
        [replicaA, replicaB].flatMap((replica) => [replica.app.get(LoginHistoryService).settled(), replica.app.get(SecurityEventsService).settled()]),
      );
      const audit = await env.sql.query(`SELECT actor_kind, actor_id, result, details FROM audit_events WHERE tenant_id = $1 AND action = 'auth.login_rate_limited'`, [org]);
      expect(audit.rows).toEqual([{ actor_kind: 'service', actor_id: 'auth', result: 'denied', details: { limits: 'account' } }]);
      const { rows } = await env.sql.query(`SELECT result FROM login_history WHERE tenant_id = $1 ORDER BY occurred_at`, [org]);
      expect(rows.map((row: Json) => row.result)).toEqual([...Array(5).fill('wrong_password'), 'rate_limited']);
      // Another account of the same organisation is not affected.
      const other = await a.post('/register', { organisation: org, email: 'other@example.org', password: GOOD_PASSWORD });
      expect(other.status).toBe(201);
      expect((await from(a, randomIp(), { organisation: org, email: 'other@example.org', password: GOOD_PASSWORD })).status).toBe(200);
    });

    it('limits unknown accounts exactly like existing ones (same status and body)', async () => {
      const { org, email } = await veteran('acct-ghost', a);
      const answers: Json[] = [];
      for (const target of [email, 'ghost@example.org']) {
        for (let attempt = 0; attempt < 5; attempt++) {
          await from(a, randomIp(), { organisation: org, email: target, password: 'Wrong-Password-1' });
        }
        answers.push(await from(a, randomIp(), { organisation: org, email: target, password: 'Wrong-Password-1' }));
      }
      expect(answers.map((answer) => answer.status)).toEqual([429, 429]);
      expect({ ...answers[0].body, requestId: undefined }).toEqual({ ...answers[1].body, requestId: undefined });
    });
  });

  describe('unknown accounts are indistinguishable from wrong passwords', () => {
    let realistic: RunningAuth;
    let server: Http;

    beforeAll(async () => {
      // The production argon2 cost (the default harness uses the cheapest), and no limits in the way of the samples.
      realistic = await startAuth(env, {
        ...KIT_LIMITS_OFF,
        ARGON2_MEMORY_KIB: '19456',
        ARGON2_TIME_COST: '2',
        LOGIN_RATE_LIMIT_MAX_PER_ACCOUNT: '1000',
        LOGIN_MAX_FAILURES: '1000',
      });
      server = new Http(realistic.url);
    });

    afterAll(async () => {
      await realistic?.close();
    });

    it('answers with the same status and body, and in about the same time', async () => {
      const { org, email } = await veteran('timing', server);
      const wrongPassword = { organisation: org, email, password: 'Wrong-Password-1' };
      const unknownEmail = (n: number) => ({ organisation: org, email: `ghost${n}@example.org`, password: 'Wrong-Password-1' });
      const unknownOrg = { organisation: uniqueOrg('ghost'), email, password: 'Wrong-Password-1' };

      const answers = [await server.post('/login', wrongPassword), await server.post('/login', unknownEmail(0)), await server.post('/login', unknownOrg)];
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer');
        expect({ ...answer.body, requestId: undefined }).toEqual({ ...answers[0].body, requestId: undefined });
      }

      const timed = async (body: unknown) => {
        const started = process.hrtime.bigint();
        const response = await server.post('/login', body);
        expect(response.status).toBe(401);
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      // Interleaved, so that load on the shared machine hits both series alike.
      for (let round = 0; round < 15; round++) {
        known.push(await timed(wrongPassword));
        unknown.push(await timed(unknownEmail(round + 1)));
      }
      const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
      const ratio = median(unknown) / median(known);
      // Without the dummy verification an unknown account answers in ~1-2 ms against tens of ms: a ratio near 0.05.
      expect(ratio).toBeGreaterThan(0.7);
      expect(ratio).toBeLessThan(1.4);
    });
  });
});
