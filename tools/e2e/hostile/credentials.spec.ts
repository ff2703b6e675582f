/**
 * Hostile user, part 2: credentials. Brute force against the lockout (5 failures → 429 TOO_MANY_LOGIN_ATTEMPTS with
 * Retry-After, unknown accounts alike), the login rate limits per address and per account, the API's own limits
 * (per address, per user) with 429 + Retry-After, refresh-token reuse revoking the whole family, and registration
 * bodies that try to choose a role or a tenant.
 *
 * The services run with the production limits (the seed's 5 logins per 15 minutes per address, 60 API requests a
 * minute per address, 120 per user); every call comes from its own documentation address through X-Forwarded-For
 * (loopback is a trusted proxy), so other test files sharing Redis and 127.0.0.1 neither count nor get counted.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { decodeJwt } from 'jose';
import { GOOD_PASSWORD } from '@rallyforge/auth/test/auth-harness';
import { tokenIn } from '@rallyforge/auth/test/mail-harness';
import { randomClientAddress, startInProcessPlatform, type InProcessPlatform, type Member } from '../../test/in-process-platform';

const LOGIN = '/api/v1/auth/login';
const REFRESH = '/api/v1/auth/refresh';
const REGISTER = '/api/v1/auth/register';
const LOCKOUT_SECONDS = 15 * 60;

/**
 * As in a dedicated tenant's release, whose Redis user may only touch `t:<id>:*`: counters that belong to no tenant
 * (per address) must live under this prefix, or the ACL refuses them and the limits silently fail open.
 */
const RELEASE_PREFIX = `t:rf-release-${randomBytes(3).toString('hex')}:`;

let platform: InProcessPlatform;
let org: string;
let redis: Redis;

beforeAll(async () => {
  const limits = { RATE_LIMIT_IP_PER_MINUTE: '60', RATE_LIMIT_USER_PER_MINUTE: '120', REDIS_KEY_PREFIX: RELEASE_PREFIX };
  platform = await startInProcessPlatform('hostile_credentials', {
    clientAddresses: 'random',
    mail: true,
    auth: { LOGIN_RATE_LIMIT_MAX_PER_IP: '5', LOGIN_RATE_LIMIT_MAX_PER_ACCOUNT: '5', LOGIN_MAX_FAILURES: '5', ...limits },
    services: limits,
  });
  redis = new Redis(process.env.RF_TEST_REDIS_URL!);
  org = await platform.organisation('credentials');
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await platform?.close();
});

/** Every Redis key whose name contains `fragment`. */
async function keysContaining(fragment: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${fragment.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

const login = (body: Record<string, unknown>, from = randomClientAddress()) =>
  platform.call('auth', 'POST', LOGIN, { body, headers: { 'x-forwarded-for': from } });

function expectRetryAfter(headers: Headers, atMostSeconds: number): number {
  const retryAfter = Number(headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(atMostSeconds);
  return retryAfter;
}

describe('brute force meets the lockout', () => {
  it('locks an account after 5 wrong passwords from 5 addresses: the right password then gets 429 with Retry-After', async () => {
    const victim = await platform.account(org, 'brute');
    for (let attempt = 1; attempt <= 5; attempt++) {
      const wrong = await login({ organisation: org, email: victim.email, password: `Wrong-Password-${attempt}` });
      expect([attempt, wrong.status, wrong.body.code]).toEqual([attempt, 401, 'INVALID_CREDENTIALS']);
    }
    const locked = await login({ organisation: org, email: victim.email, password: victim.password });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_LOGIN_ATTEMPTS', message: expect.stringContaining('minutes') });
    expectRetryAfter(locked.headers, LOCKOUT_SECONDS);
    expect(locked.body.accessToken).toBeUndefined();

    // The lockout is the account's, not the organisation's: a colleague logs in as usual.
    const colleague = await platform.member(org, 'colleague');
    expect((await login({ organisation: org, email: colleague.email, password: colleague.password })).status).toBe(200);
    // Case and blanks do not make another account to guess against.
    const shouted = await login({ organisation: org, email: `  ${victim.email.toUpperCase()} `, password: victim.password });
    expect(shouted.status).toBe(429);
  });

  it('answers an unknown account exactly like a real one, lockout included (no enumeration)', async () => {
    const real = await platform.account(org, 'known');
    const ghost = `ghost-${real.id.slice(0, 8)}@example.org`;
    const answers: Record<string, Array<{ status: number; code: string; message: string }>> = { real: [], ghost: [] };
    for (let attempt = 1; attempt <= 6; attempt++) {
      for (const [who, email] of [['real', real.email], ['ghost', ghost]] as const) {
        const response = await login({ organisation: org, email, password: `Wrong-Password-${attempt}` });
        answers[who]!.push({ status: response.status, code: response.body.code, message: response.body.message });
      }
    }
    expect(answers.ghost).toEqual(answers.real);
    expect(answers.real.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401, 429]);
  });
});

describe('login rate limits', () => {
  it('stops the 6th login from one address within 15 minutes (429 LOGIN_RATE_LIMITED, Retry-After), not other addresses', async () => {
    const sprayer = randomClientAddress();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const sprayed = await login({ organisation: org, email: `spray-${attempt}@example.org`, password: GOOD_PASSWORD }, sprayer);
      expect([attempt, sprayed.status]).toEqual([attempt, 401]);
    }
    const user = await platform.member(org, 'sprayed');
    const limited = await login({ organisation: org, email: user.email, password: user.password }, sprayer);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'LOGIN_RATE_LIMITED' });
    expectRetryAfter(limited.headers, LOCKOUT_SECONDS);
    expect((await login({ organisation: org, email: user.email, password: user.password })).status).toBe(200);
  });

  it('stops the 6th login of one account within 15 minutes, even with the right password from fresh addresses', async () => {
    const user = await platform.account(org, 'busy');
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect([attempt, (await login({ organisation: org, email: user.email, password: user.password })).status]).toEqual([attempt, 200]);
    }
    const limited = await login({ organisation: org, email: user.email, password: user.password });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('LOGIN_RATE_LIMITED');
    expectRetryAfter(limited.headers, LOCKOUT_SECONDS);
  });
});

describe('API rate limits', () => {
  it('answers the 61st request a minute from one address with 429 and Retry-After, on every service', async () => {
    const routes = [
      ['auth', '/api/v1/auth/.well-known/jwks.json'],
      ['claims', '/api/v1/claims'],
      ['payments', '/api/v1/payments/plans'],
      ['documents', `/api/v1/documents/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`],
    ] as const;
    for (const [service, path] of routes) {
      const address = randomClientAddress();
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await platform.call(service, 'GET', path, { headers: { 'x-forwarded-for': address } })).status);
      expect(statuses.filter((status) => status === 429)).toEqual([]);
      const limited = await platform.call(service, 'GET', path, { headers: { 'x-forwarded-for': address } });
      expect({ service, status: limited.status, code: limited.body?.code }).toEqual({ service, status: 429, code: 'TOO_MANY_REQUESTS' });
      expectRetryAfter(limited.headers, 60);
      expect(limited.headers.get('ratelimit-limit')).toBe('60');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      // Another address is not affected.
      expect((await platform.call(service, 'GET', path)).status).not.toBe(429);
    }
  });

  it('limits one user to 120 requests a minute whatever address they come from', async () => {
    const user = await platform.member(org, 'scraper');
    let limited;
    for (let i = 0; i < 125 && !limited; i++) {
      const response = await platform.call('claims', 'GET', '/api/v1/claims', { token: user.token });
      if (response.status === 429) limited = response;
      else expect(response.status).toBe(200);
    }
    expect(limited).toBeDefined();
    expect(limited!.body).toMatchObject({ code: 'TOO_MANY_REQUESTS', message: expect.stringContaining('per user') });
    expectRetryAfter(limited!.headers, 60);
  });
});

describe('Redis keys of the login protection', () => {
  it("keeps an organisation's lockout and login counters under t:<id>: and per-address counters under REDIS_KEY_PREFIX", async () => {
    const keyed = await platform.organisation('keyed');
    const user = await platform.account(keyed, 'keyed');
    const address = randomClientAddress();
    for (let attempt = 1; attempt <= 2; attempt++) {
      expect((await login({ organisation: keyed, email: user.email, password: `Wrong-${attempt}-Password` }, address)).status).toBe(401);
    }

    const tenantKeys = await keysContaining(keyed);
    expect(tenantKeys.length).toBeGreaterThan(0);
    expect(tenantKeys.filter((key) => !key.startsWith(`t:${keyed}:`))).toEqual([]);
    const addressKeys = await keysContaining(address);
    expect(addressKeys.length).toBeGreaterThanOrEqual(2); // the kit's per-address counter and auth's login counter
    expect(addressKeys.filter((key) => !key.startsWith(RELEASE_PREFIX))).toEqual([]);
  });
});

describe('refresh-token reuse', () => {
  async function loginPair(member: Member) {
    const response = await login({ organisation: member.org, email: member.email, password: member.password });
    expect(response.status).toBe(200);
    return response.body as { accessToken: string; refreshToken: string };
  }
  const refresh = (refreshToken: string) => platform.call('auth', 'POST', REFRESH, { body: { refreshToken } });

  it('revokes the whole family when a spent refresh token is presented again, and only that family', async () => {
    const user = await platform.member(org, 'replayed');
    const stolen = user.refreshToken;
    const other = await loginPair(user); // a second device: another family

    const rotated = await refresh(stolen);
    expect(rotated.status).toBe(200);
    const next = rotated.body.refreshToken as string;
    expect(next).not.toBe(stolen);

    // The thief replays the token the victim already spent: refused, and the victim's newer token dies with it.
    const replay = await refresh(stolen);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
    const afterRevocation = await refresh(next);
    expect(afterRevocation.status).toBe(401);
    expect(afterRevocation.body.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await refresh(stolen)).body.code).toBe('REFRESH_TOKEN_REUSED');

    // The other device's family is untouched; the revoked session is gone from the list.
    const otherRefreshed = await refresh(other.refreshToken);
    expect(otherRefreshed.status).toBe(200);
    const sessions = await platform.call('auth', 'GET', '/api/v1/auth/me/sessions', { token: otherRefreshed.body.accessToken });
    expect(sessions.status).toBe(200);
    const revokedSession = decodeJwt(user.token).sid;
    expect(sessions.body.items.map((session: { id: string }) => session.id)).not.toContain(revokedSession);
    expect(sessions.body.items).toHaveLength(1);
  });

  it('refuses a refresh token whose tenant part was changed to another organisation', async () => {
    const user = await platform.member(org, 'swapped');
    const elsewhere = await platform.organisation('elsewhere');
    const [prefix, , secret] = user.refreshToken.split('.');
    const swapped = await refresh(`${prefix}.${elsewhere}.${secret}`);
    expect(swapped.status).toBe(401);
    expect(swapped.body.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await refresh(user.refreshToken)).status).toBe(200);
  });
});

describe('registration cannot choose a role or a tenant', () => {
  const smuggled: Array<[string, Record<string, unknown>]> = [
    ['role', { role: 'org_admin' }],
    ['roles', { roles: ['platform_admin'] }],
    ['tenantId', { tenantId: 'another-org' }],
    ['tid', { tid: 'another-org' }],
    ['organisationId', { organisationId: 'another-org' }],
    ['emailVerified', { emailVerified: true }],
    ['isAdmin', { isAdmin: true }],
    ['id', { id: '00000000-0000-4000-8000-000000000000' }],
  ];

  it.each(smuggled)('refuses a body with %s (400 VALIDATION_FAILED) and creates no account', async (field, extra) => {
    const email = `smuggler-${field.toLowerCase()}-${Date.now()}@example.org`;
    const response = await platform.call('auth', 'POST', REGISTER, { body: { organisation: org, email, password: GOOD_PASSWORD, ...extra } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', message: expect.stringContaining(field) });
    const { rows } = await platform.sql.auth.query('SELECT 1 FROM users WHERE email = $1', [email]);
    expect(rows).toEqual([]);
  });

  it('refuses a body whose prototype is poisoned (__proto__, constructor.prototype)', async () => {
    for (const raw of [
      `{"organisation":"${org}","email":"proto-${Date.now()}@example.org","password":"${GOOD_PASSWORD}","__proto__":{"role":"org_admin"}}`,
      `{"organisation":"${org}","email":"ctor-${Date.now()}@example.org","password":"${GOOD_PASSWORD}","constructor":{"prototype":{"role":"org_admin"}}}`,
    ]) {
      const response = await platform.call('auth', 'POST', REGISTER, { raw, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
    }
    const { rows } = await platform.sql.auth.query(`SELECT role FROM users WHERE tenant_id = $1 AND role <> 'veteran'`, [org]);
    expect(rows).toEqual([]);
  });

  it('creates a veteran of the organisation named, never anything else', async () => {
    const email = `plain-${Date.now()}@example.org`;
    const registered = await platform.call('auth', 'POST', REGISTER, { body: { organisation: org, email, password: GOOD_PASSWORD } });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ role: 'veteran', roles: ['veteran'], emailVerified: false, organisation: { id: org } });
    const loggedIn = await login({ organisation: org, email, password: GOOD_PASSWORD });
    expect(decodeJwt(loggedIn.body.accessToken)).toMatchObject({ tid: org, roles: ['veteran'], sub: registered.body.id });
    // A veteran may not act as staff anywhere.
    const claims = await platform.call('claims', 'PATCH', `/api/v1/claims/${registered.body.id}/status`, {
      token: loggedIn.body.accessToken,
      body: { status: 'in_review' },
    });
    expect(claims.status).toBe(403);
    expect((await platform.call('auth', 'GET', '/api/v1/auth/audit', { token: loggedIn.body.accessToken })).status).toBe(403);
  });

  it('refuses registration into an invite-only organisation and into ids that are not organisations', async () => {
    const closed = await platform.organisation('closed', { registration: 'invite' });
    const refused = await platform.call('auth', 'POST', REGISTER, { body: { organisation: closed, email: `x-${Date.now()}@example.org`, password: GOOD_PASSWORD } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('REGISTRATION_CLOSED');
    for (const organisation of ['_platform', 'UPPER', `${org}; DROP TABLE users`, '../demo', '', 'a'.repeat(41)]) {
      const response = await platform.call('auth', 'POST', REGISTER, { body: { organisation, email: `y-${Date.now()}@example.org`, password: GOOD_PASSWORD } });
      expect([organisation, response.status]).toEqual([organisation, 400]);
    }
    const unknown = await platform.call('auth', 'POST', REGISTER, { body: { organisation: 'no-such-org-here', email: `z-${Date.now()}@example.org`, password: GOOD_PASSWORD } });
    expect(unknown.status).toBe(404);
  });
});

describe('invitations', () => {
  const ACCEPT = '/api/v1/auth/invitations/accept';

  async function invite(admin: Member, role: string) {
    const email = `invited-${role}-${randomBytes(3).toString('hex')}@example.org`;
    const created = await platform.call('auth', 'POST', '/api/v1/auth/invitations', { token: admin.token, body: { email, role } });
    expect(created.status).toBe(201);
    const mail = await platform.mail!.waitFor((message) => message.to.includes(email), 15_000);
    return { id: created.body.id as string, email, token: tokenIn(mail) };
  }

  it('creates the account with the invited role, once, and only in the inviting organisation', async () => {
    const admin = await platform.member(org, 'inviter', 'org_admin');
    const invitation = await invite(admin, 'representative');
    // The body cannot choose the role, the organisation or the address.
    for (const extra of [{ role: 'org_admin' }, { organisation: 'elsewhere' }, { email: 'other@example.org' }]) {
      const smuggled = await platform.call('auth', 'POST', ACCEPT, { body: { token: invitation.token, password: GOOD_PASSWORD, displayName: 'Rep', ...extra } });
      expect([Object.keys(extra)[0], smuggled.status, smuggled.body.code]).toEqual([Object.keys(extra)[0], 400, 'VALIDATION_FAILED']);
    }
    const weak = await platform.call('auth', 'POST', ACCEPT, { body: { token: invitation.token, password: 'weak', displayName: 'Rep' } });
    expect(weak.body.code).toBe('WEAK_PASSWORD');

    const accepted = await platform.call('auth', 'POST', ACCEPT, { body: { token: invitation.token, password: GOOD_PASSWORD, displayName: 'Rep' } });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ email: invitation.email, role: 'representative', emailVerified: true, organisation: { id: org } });
    const again = await platform.call('auth', 'POST', ACCEPT, { body: { token: invitation.token, password: GOOD_PASSWORD, displayName: 'Rep' } });
    expect([again.status, again.body.code]).toEqual([400, 'TOKEN_ALREADY_USED']);
    const loggedIn = await login({ organisation: org, email: invitation.email, password: GOOD_PASSWORD });
    expect(decodeJwt(loggedIn.body.accessToken)).toMatchObject({ tid: org, roles: ['representative'] });
  });

  it('refuses a revoked invitation, and an invitation token used as another kind of token', async () => {
    const admin = await platform.member(org, 'revoker', 'org_admin');
    const invitation = await invite(admin, 'org_admin');
    const asReset = await platform.call('auth', 'POST', '/api/v1/auth/password-reset', { body: { token: invitation.token, password: GOOD_PASSWORD } });
    expect([asReset.status, asReset.body.code]).toEqual([400, 'INVALID_TOKEN']);
    const asVerification = await platform.call('auth', 'POST', '/api/v1/auth/verify-email', { body: { token: invitation.token } });
    expect([asVerification.status, asVerification.body.code]).toEqual([400, 'INVALID_TOKEN']);
    expect((await platform.call('auth', 'DELETE', `/api/v1/auth/invitations/${invitation.id}`, { token: admin.token })).status).toBe(204);
    const revoked = await platform.call('auth', 'POST', ACCEPT, { body: { token: invitation.token, password: GOOD_PASSWORD, displayName: 'Admin' } });
    expect([revoked.status, revoked.body.code]).toEqual([400, 'INVALID_TOKEN']);
    const { rows } = await platform.sql.auth.query('SELECT 1 FROM users WHERE email = $1', [invitation.email]);
    expect(rows).toEqual([]);
  });

  it('lets only org_admins invite, and never into a role above org_admin', async () => {
    const veteran = await platform.member(org, 'not-an-admin');
    const byVeteran = await platform.call('auth', 'POST', '/api/v1/auth/invitations', { token: veteran.token, body: { email: 'x@example.org', role: 'org_admin' } });
    expect(byVeteran.status).toBe(403);
    const admin = await platform.member(org, 'ambitious', 'org_admin');
    const platformAdmin = await platform.call('auth', 'POST', '/api/v1/auth/invitations', { token: admin.token, body: { email: 'y@example.org', role: 'platform_admin' } });
    expect([platformAdmin.status, platformAdmin.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
