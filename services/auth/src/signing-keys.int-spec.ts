import { createLocalJWKSet, jwtVerify } from 'jose';
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

describe('signing keys across replicas (real PostgreSQL)', () => {
  let env: AuthEnvironment;
  const replicas: RunningAuth[] = [];

  beforeAll(async () => {
    env = await createEnvironment('auth_keys');
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await env?.drop();
  });

  it('two replicas booting together on an empty database create exactly one key and share it', async () => {
    replicas.push(...(await Promise.all([startAuth(env), startAuth(env)])));
    const { rows } = await env.sql.query('SELECT kid FROM signing_keys');
    expect(rows).toHaveLength(1);

    const [one, two] = replicas.map((replica) => new Http(replica.url));
    const org = uniqueOrg('replicas');
    await insertOrganisation(env.sql, org);
    expect((await one.post('/register', { organisation: org, email: 'r@example.org', password: GOOD_PASSWORD })).status).toBe(201);
    const login = await one.post('/login', { organisation: org, email: 'r@example.org', password: GOOD_PASSWORD });

    // Replica two decrypts the same key set: it verifies replica one's token locally and serves the same JWKS.
    expect((await two.get('/me', login.body.accessToken)).status).toBe(200);
    const jwksOne = await one.get('/.well-known/jwks.json');
    const jwksTwo = await two.get('/.well-known/jwks.json');
    expect(jwksTwo.body).toEqual(jwksOne.body);
    await expect(
      jwtVerify(login.body.accessToken, createLocalJWKSet(jwksTwo.body), { algorithms: ['EdDSA'] }),
    ).resolves.toBeDefined();
  });

  it('a replica with another key-encryption key cannot read the keys and refuses to start', async () => {
    await expect(
      startAuth(env, { AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') }),
    ).rejects.toThrow();
  });
});
