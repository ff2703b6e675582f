import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import {
  createEnvironment,
  EventListener,
  eventually,
  GOOD_PASSWORD,
  Http,
  insertOrganisation,
  startAuth,
  uniqueOrg,
  type AuthEnvironment,
  type RunningAuth,
} from '../test/auth-harness';
import { SigningKeyService } from './services/signing-key.service';

describe('auth over HTTP (real PostgreSQL, Redis, RabbitMQ)', () => {
  let env: AuthEnvironment;
  let auth: RunningAuth;
  let http: Http;

  beforeAll(async () => {
    env = await createEnvironment('auth_http');
    auth = await startAuth(env);
    http = new Http(auth.url);
  });

  afterAll(async () => {
    await auth?.close();
    await env?.drop();
  });

  /** A new open organisation with one registered veteran, logged in. */
  async function veteran(label = 'org', email = 'vet@example.org') {
    const { org, id } = await registeredVeteran(label, email);
    const login = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
    expect(login.status).toBe(200);
    return { org, email, id, tokens: login.body as Record<string, string> };
  }

  /** The same veteran before any login (every login counts toward the per-account rate limit). */
  async function registeredVeteran(label: string, email: string) {
    const org = uniqueOrg(label);
    await insertOrganisation(env.sql, org);
    const registered = await http.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
    expect(registered.status).toBe(201);
    return { org, email, id: registered.body.id as string };
  }

  const errorShape = (statusCode: number, code: string) => ({
    statusCode,
    code,
    message: expect.any(String),
    requestId: expect.any(String),
  });

  describe('GET /.well-known/jwks.json', () => {
    it('publishes the Ed25519 public key, cacheable, without private parts', async () => {
      const response = await http.get('/.well-known/jwks.json');
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('public');
      expect(response.body.keys).toHaveLength(1);
      const [key] = response.body.keys;
      expect(key).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig' });
    });

    it('stores the private key encrypted', async () => {
      const { rows } = await env.sql.query('SELECT kid, private_key_encrypted FROM signing_keys');
      expect(rows).toHaveLength(1);
      const sealed: Buffer = rows[0].private_key_encrypted;
      expect(sealed[0]).toBe(0x01);
      // PKCS#8 DER of an Ed25519 key starts with 30 2e 02 01 00 30 05 06 03 2b 65 70: it must not appear in the clear.
      expect(sealed.includes(Buffer.from('302e020100300506032b6570', 'hex'))).toBe(false);
    });
  });

  describe('POST /register', () => {
    it('creates a veteran with an argon2id hash and publishes auth.user.registered through the outbox', async () => {
      const org = uniqueOrg('reg');
      await insertOrganisation(env.sql, org, { displayName: 'Registration Org' });
      const events = await EventListener.listen(env.broker, 'auth.user.registered');
      try {
        const response = await http.post('/register', {
          organisation: org,
          email: '  New.Vet@Example.org ',
          password: GOOD_PASSWORD,
          displayName: 'New Vet',
        });
        expect(response.status).toBe(201);
        expect(response.body).toEqual({
          id: expect.any(String),
          email: 'new.vet@example.org',
          displayName: 'New Vet',
          emailVerified: false,
          role: 'veteran',
          roles: ['veteran'],
          organisation: { id: org, displayName: 'Registration Org' },
        });
        const { rows } = await env.sql.query('SELECT tenant_id, email, role, password_hash FROM users WHERE id = $1', [
          response.body.id,
        ]);
        expect(rows[0]).toMatchObject({ tenant_id: org, email: 'new.vet@example.org', role: 'veteran' });
        expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);

        await eventually(async () => events.messages.length > 0);
        const [envelope] = events.bodies();
        expect(envelope).toMatchObject({
          type: 'auth.user.registered',
          version: 1,
          tenantId: org,
          data: { userId: response.body.id, email: 'new.vet@example.org', role: 'veteran' },
        });
        expect(events.messages[0].properties.headers?.['x-rf-tenant-id']).toBe(org);
      } finally {
        await events.close();
      }
    });

    it('refuses a second account with the same e-mail in the organisation (409 EMAIL_TAKEN), case-insensitively', async () => {
      const { org } = await veteran('dup', 'dup@example.org');
      const response = await http.post('/register', { organisation: org, email: 'DUP@example.org', password: GOOD_PASSWORD });
      expect(response.status).toBe(409);
      expect(response.body).toEqual(errorShape(409, 'EMAIL_TAKEN'));
    });

    it('allows the same e-mail in another organisation', async () => {
      await veteran('same-a', 'same@example.org');
      await veteran('same-b', 'same@example.org');
    });

    it.each([
      ['role', { role: 'platform_admin' }],
      ['roles', { roles: ['org_admin'] }],
      ['tenantId', { tenantId: 'other' }],
    ])('rejects a body with %s as an unknown field (400)', async (_name, extra) => {
      const org = uniqueOrg('extra');
      await insertOrganisation(env.sql, org);
      const response = await http.post('/register', {
        organisation: org,
        email: 'extra@example.org',
        password: GOOD_PASSWORD,
        ...extra,
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual(errorShape(400, 'VALIDATION_FAILED'));
      expect(response.body.message).toContain('should not exist');
      const { rows } = await env.sql.query('SELECT 1 FROM users WHERE tenant_id = $1', [org]);
      expect(rows).toHaveLength(0);
    });

    it.each([
      ['missing fields', {}],
      ['a bad e-mail', { organisation: 'demo', email: 'not-an-email', password: GOOD_PASSWORD }],
      ['a bad organisation id', { organisation: 'Demo_Org', email: 'a@example.org', password: GOOD_PASSWORD }],
      ['a non-string password', { organisation: 'demo', email: 'a@example.org', password: 12345678 }],
    ])('rejects %s (400 VALIDATION_FAILED)', async (_name, body) => {
      const response = await http.post('/register', body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(errorShape(400, 'VALIDATION_FAILED'));
    });

    it.each(['Sh0rt!', 'alllowercase1!', 'NoDigits!!', 'NoSpecial123'])(
      'refuses the weak password %p (400 WEAK_PASSWORD)',
      async (password) => {
        const org = uniqueOrg('weak');
        await insertOrganisation(env.sql, org);
        const response = await http.post('/register', { organisation: org, email: 'weak@example.org', password });
        expect(response.status).toBe(400);
        expect(response.body).toEqual(errorShape(400, 'WEAK_PASSWORD'));
      },
    );

    it('answers 404 ORGANISATION_NOT_FOUND for an unknown organisation', async () => {
      const response = await http.post('/register', { organisation: uniqueOrg('nope'), email: 'a@example.org', password: GOOD_PASSWORD });
      expect(response.status).toBe(404);
      expect(response.body).toEqual(errorShape(404, 'ORGANISATION_NOT_FOUND'));
    });

    it('refuses registration into an invite-only organisation (403 REGISTRATION_CLOSED)', async () => {
      const org = uniqueOrg('invite');
      await insertOrganisation(env.sql, org, { registration: 'invite' });
      const response = await http.post('/register', { organisation: org, email: 'a@example.org', password: GOOD_PASSWORD });
      expect(response.status).toBe(403);
      expect(response.body).toEqual(errorShape(403, 'REGISTRATION_CLOSED'));
    });

    it('refuses registration into a suspended organisation (403 ORGANISATION_SUSPENDED)', async () => {
      const org = uniqueOrg('susp');
      await insertOrganisation(env.sql, org, { suspended: true });
      const response = await http.post('/register', { organisation: org, email: 'a@example.org', password: GOOD_PASSWORD });
      expect(response.status).toBe(403);
      expect(response.body).toEqual(errorShape(403, 'ORGANISATION_SUSPENDED'));
    });
  });

  describe('POST /login and the access token', () => {
    it('issues an EdDSA access token that verifies against the JWKS with jose alone', async () => {
      const { org, id, email, tokens } = await veteran('login', 'login@example.org');
      expect(tokens).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: 900, tokenType: 'Bearer' });

      const jwks = await http.get('/.well-known/jwks.json');
      const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, createLocalJWKSet(jwks.body), {
        algorithms: ['EdDSA'],
        issuer: 'rallyforge-auth',
        audience: 'rallyforge',
      });
      expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwks.body.keys[0].kid });
      expect(payload).toMatchObject({ sub: id, tid: org, roles: ['veteran'], email, iss: 'rallyforge-auth', aud: 'rallyforge' });
      expect(payload.jti).toEqual(expect.any(String));
      expect(payload.exp! - payload.iat!).toBe(900);
    });

    it('gives identical answers for a wrong password, an unknown user and an unknown organisation', async () => {
      const { org } = await veteran('cred', 'cred@example.org');
      const attempts = await Promise.all([
        http.post('/login', { organisation: org, email: 'cred@example.org', password: 'Wrong-Password-1' }),
        http.post('/login', { organisation: org, email: 'nobody@example.org', password: 'Wrong-Password-1' }),
        http.post('/login', { organisation: uniqueOrg('ghost'), email: 'cred@example.org', password: 'Wrong-Password-1' }),
      ]);
      for (const attempt of attempts) {
        expect(attempt.status).toBe(401);
        expect(attempt.body).toEqual(errorShape(401, 'INVALID_CREDENTIALS'));
        expect(attempt.headers.get('www-authenticate')).toBe('Bearer');
      }
      const withoutRequestId = attempts.map(({ body }) => ({ ...body, requestId: undefined }));
      expect(withoutRequestId[1]).toEqual(withoutRequestId[0]);
      expect(withoutRequestId[2]).toEqual(withoutRequestId[0]);
    });

    it('locks the account after 5 failed attempts, even for the right password (429)', async () => {
      // Registered, never logged in: five failures use up the account's five attempts exactly, and the lockout,
      // checked first, is what refuses the sixth.
      const { org, email } = await registeredVeteran('lock', 'lock@example.org');
      for (let attempt = 0; attempt < 5; attempt++) {
        expect((await http.post('/login', { organisation: org, email, password: 'Wrong-Password-1' })).status).toBe(401);
      }
      const locked = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
      expect(locked.status).toBe(429);
      expect(locked.body).toEqual(errorShape(429, 'TOO_MANY_LOGIN_ATTEMPTS'));
    });

    it('refuses a login into a suspended organisation', async () => {
      const { org, email } = await veteran('login-susp', 'susp@example.org');
      await env.sql.query('UPDATE organisations SET suspended = true WHERE id = $1', [org]);
      const response = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
      expect(response.status).toBe(403);
      expect(response.body).toEqual(errorShape(403, 'ORGANISATION_SUSPENDED'));
    });
  });

  describe('GET /me', () => {
    it("returns the caller's account, organisation and no subscription", async () => {
      const { org, id, tokens } = await veteran('me', 'me@example.org');
      const response = await http.get('/me', tokens.accessToken);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id,
        email: 'me@example.org',
        displayName: null,
        emailVerified: false,
        role: 'veteran',
        roles: ['veteran'],
        organisation: { id: org, displayName: `Org ${org}` },
        subscription: { status: 'none' },
      });
    });

    it('needs a bearer token (401)', async () => {
      const response = await http.get('/me');
      expect(response.status).toBe(401);
      expect(response.body).toEqual(errorShape(401, 'UNAUTHENTICATED'));
    });

    it('refuses a token signed by a key auth does not own, even with a known kid (401)', async () => {
      const { org, id } = await veteran('forged', 'forged@example.org');
      const jwks = await http.get('/.well-known/jwks.json');
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const forged = await new SignJWT({ tid: org, roles: ['platform_admin'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: jwks.body.keys[0].kid })
        .setSubject(id)
        .setIssuer('rallyforge-auth')
        .setAudience('rallyforge')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      const response = await http.get('/me', forged);
      expect(response.status).toBe(401);
    });

    it("cannot read another organisation's user: a token whose tenant does not own the user gives 404", async () => {
      const a = await veteran('me-a', 'a@example.org');
      const b = await veteran('me-b', 'b@example.org');
      // Sign with auth's real key, so only the tenant scoping can stop it.
      const keys = auth.app.get(SigningKeyService);
      const key = await keys.signingKey();
      const crossTenant = await new SignJWT({ tid: b.org, roles: ['veteran'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
        .setSubject(a.id)
        .setIssuer('rallyforge-auth')
        .setAudience('rallyforge')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key.privateKey);
      const response = await http.get('/me', crossTenant);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(errorShape(404, 'USER_NOT_FOUND'));
      expect(decodeProtectedHeader(crossTenant).kid).toBe(key.kid);
    });
  });

  describe('POST /refresh and /logout', () => {
    it('rotates the refresh token on every use and revokes the family when a spent token comes back', async () => {
      const { tokens } = await veteran('refresh', 'refresh@example.org');
      const first = await http.post('/refresh', { refreshToken: tokens.refreshToken });
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(tokens.refreshToken);
      expect((await http.get('/me', first.body.accessToken)).status).toBe(200);

      const second = await http.post('/refresh', { refreshToken: first.body.refreshToken });
      expect(second.status).toBe(200);

      const reuse = await http.post('/refresh', { refreshToken: tokens.refreshToken });
      expect(reuse.status).toBe(401);
      expect(reuse.body).toEqual(errorShape(401, 'REFRESH_TOKEN_REUSED'));

      // The whole family is gone, including the newest token.
      const afterReuse = await http.post('/refresh', { refreshToken: second.body.refreshToken });
      expect(afterReuse.status).toBe(401);
      expect(afterReuse.body).toEqual(errorShape(401, 'INVALID_REFRESH_TOKEN'));
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const { tokens } = await veteran('race', 'race@example.org');
      const results = await Promise.all([
        http.post('/refresh', { refreshToken: tokens.refreshToken }),
        http.post('/refresh', { refreshToken: tokens.refreshToken }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('refuses unknown, malformed and tenant-swapped refresh tokens (401 INVALID_REFRESH_TOKEN)', async () => {
      const { tokens } = await veteran('rt-bad', 'rtbad@example.org');
      const other = await veteran('rt-other', 'rtother@example.org');
      const secret = tokens.refreshToken.split('.')[2];
      for (const refreshToken of ['garbage', `rt1.${other.org}.${secret}`, `rt1.${other.org}.${'A'.repeat(43)}`]) {
        const response = await http.post('/refresh', { refreshToken });
        expect(response.status).toBe(401);
        expect(response.body).toEqual(errorShape(401, 'INVALID_REFRESH_TOKEN'));
      }
    });

    it('stores refresh tokens only as SHA-256 hashes', async () => {
      const { tokens, org } = await veteran('rt-hash', 'rthash@example.org');
      const { rows } = await env.sql.query('SELECT token_hash FROM refresh_tokens WHERE tenant_id = $1', [org]);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0].token_hash).not.toContain(tokens.refreshToken.split('.')[2]);
    });

    it('logout revokes the family (204) and the token no longer refreshes', async () => {
      const { tokens } = await veteran('logout', 'logout@example.org');
      const logout = await http.post('/logout', { refreshToken: tokens.refreshToken });
      expect(logout.status).toBe(204);
      const refresh = await http.post('/refresh', { refreshToken: tokens.refreshToken });
      expect(refresh.status).toBe(401);
      expect(refresh.body).toEqual(errorShape(401, 'INVALID_REFRESH_TOKEN'));
    });

    it('logout answers 204 for an unknown token and 400 for a missing one', async () => {
      expect((await http.post('/logout', { refreshToken: 'garbage' })).status).toBe(204);
      const missing = await http.post('/logout', {});
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(errorShape(400, 'VALIDATION_FAILED'));
    });
  });

  describe('signing keys', () => {
    it('rotates: a successor is published before it signs, and the old key stays verifiable for the grace period', async () => {
      const keys = auth.app.get(SigningKeyService);
      const now = Date.now();
      const day = 24 * 3600 * 1000;
      const current = await keys.signingKey(new Date(now));
      // One hour into the prepublish window (the key retires after 30 days, successors come 1 day early).
      const prepublish = new Date(now + 29 * day + 3600 * 1000);
      const stillCurrent = await keys.signingKey(prepublish);
      expect(stillCurrent.kid).toBe(current.kid);
      const published = await keys.jwks(prepublish);
      expect(published.keys.map((k) => k.kid)).toContain(current.kid);
      expect(published.keys).toHaveLength(2);

      const afterRetirement = new Date(now + 30 * day + 3600 * 1000);
      const successor = await keys.signingKey(afterRetirement);
      expect(successor.kid).not.toBe(current.kid);
      expect((await keys.jwks(afterRetirement)).keys.map((k) => k.kid)).toEqual([successor.kid, current.kid]);
      expect((await keys.jwks(new Date(now + 32 * day))).keys.map((k) => k.kid)).toEqual([successor.kid]);
    });
  });
});
