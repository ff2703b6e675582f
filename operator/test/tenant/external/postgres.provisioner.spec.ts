import { Client } from 'pg';
import { DATA_SERVICES, type TenantPasswords } from '../../../src/tenant/credentials';
import { PostgresProvisioner, ProvisionError, tenantDatabaseName } from '../../../src/tenant/external';
import { dedicated, passwords, rejection, shared, startExternalTestEnv, startSilentServer, uniqueTenantId, type ExternalTestEnv } from './external-test-env';

/** PostgreSQL layer against the real server: provisioning, drift, isolation from the tenants' own credentials. */
describe('PostgresProvisioner', () => {
  let env: ExternalTestEnv;
  let provisioner: PostgresProvisioner;
  const cleanup: string[] = [];

  beforeAll(async () => {
    env = await startExternalTestEnv();
    provisioner = PostgresProvisioner.create({ ...env.config.postgres, sharedCheckTtlMs: 0 });
  });

  afterAll(async () => {
    for (const id of cleanup) await provisioner.remove(dedicated(id)).catch(() => undefined);
    await provisioner?.close();
    await env?.close();
  });

  /** A dedicated tenant, provisioned and removed after the file. */
  async function provisioned(id = uniqueTenantId()): Promise<{ id: string; creds: TenantPasswords; urls: Record<string, string> }> {
    cleanup.push(id);
    const creds = passwords();
    const urls = await provisioner.ensure(dedicated(id), creds);
    return { id, creds, urls };
  }

  /** Runs SQL as the tenant through the connection string the Secret would hold. */
  async function asTenant<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end();
    }
  }

  const verifier = async (role: string) =>
    (await env.sql<{ rolpassword: string }>('postgres', 'select rolpassword from pg_authid where rolname = $1', [role]))[0]?.rolpassword;

  it('provisions per data service a database, its owner (migrations) and a runtime role (the service), usable with the connection strings it returns', async () => {
    const { id, creds, urls } = await provisioned();
    expect(Object.keys(urls).sort()).toEqual(
      DATA_SERVICES.flatMap((s) => [`${s.toUpperCase()}_DATABASE_URL`, `${s.toUpperCase()}_MIGRATION_DATABASE_URL`]).sort(),
    );
    const database = `rf_${id.replace(/-/g, '_')}_auth`;
    const runtime = new URL(urls.AUTH_DATABASE_URL!);
    expect(runtime.username).toBe(`${database}_app`);
    expect(runtime.pathname).toBe(`/${database}`);
    const owner = new URL(urls.AUTH_MIGRATION_DATABASE_URL!);
    expect(owner.username).toBe(database);
    expect(decodeURIComponent(owner.password)).toBe(creds.postgres.auth);
    expect(runtime.password).not.toBe(owner.password);

    await provisioner.verify(dedicated(id), creds);
    // Migrations (the owner) create the schema; the service (the runtime role) reads and writes rows, creates nothing.
    await asTenant(urls.CLAIMS_MIGRATION_DATABASE_URL!, 'create table claims (id int primary key)');
    await asTenant(urls.CLAIMS_DATABASE_URL!, 'insert into claims values (1)');
    expect(await asTenant(urls.CLAIMS_DATABASE_URL!, 'select id from claims')).toEqual([{ id: 1 }]);
    expect((await rejection(asTenant(urls.CLAIMS_DATABASE_URL!, 'create table sneaky (id int)'))).code).toBe('42501');
    expect((await rejection(asTenant(urls.CLAIMS_DATABASE_URL!, 'drop table claims'))).code).toBe('42501');

    const names = DATA_SERVICES.flatMap((s) => [tenantDatabaseName(id, s), `${tenantDatabaseName(id, s)}_app`]);
    const roles = await env.sql<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcanlogin: boolean; rolbypassrls: boolean }>(
      'postgres',
      'select rolname, rolsuper, rolcreatedb, rolcanlogin, rolbypassrls from pg_roles where rolname = any($1) order by 1',
      [names],
    );
    expect(roles).toHaveLength(8);
    expect(roles.every((r) => r.rolcanlogin && !r.rolsuper && !r.rolcreatedb)).toBe(true);
    // Row-Level Security binds the service: only the owner (data migrations) bypasses it.
    expect(roles.filter((r) => r.rolbypassrls).map((r) => r.rolname).sort()).toEqual(DATA_SERVICES.map((s) => tenantDatabaseName(id, s)).sort());
    const publicAcl = await env.sql('postgres', `select datname from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a where d.datname like $1 and a.grantee = 0`, [`rf_${id.replace(/-/g, '_')}_%`]);
    expect(publicAcl).toEqual([]);
  });

  it('is idempotent: a second ensure leaves the password verifier (and everything else) alone', async () => {
    const { id, creds, urls } = await provisioned();
    const role = tenantDatabaseName(id, 'auth');
    const before = await verifier(role);
    const appBefore = await verifier(`${role}_app`);
    expect(before).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(appBefore).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(await provisioner.ensure(dedicated(id), creds)).toEqual(urls);
    expect(await verifier(role)).toBe(before);
    expect(await verifier(`${role}_app`)).toBe(appBefore);
    await provisioner.verify(dedicated(id), creds);
  });

  it('detects drift in verify and puts it back in ensure: password, grants, login, memberships', async () => {
    const { id, creds, urls } = await provisioned();
    const other = await provisioned();
    const auth = tenantDatabaseName(id, 'auth');
    const claims = tenantDatabaseName(id, 'claims');
    const otherAuth = tenantDatabaseName(other.id, 'auth');
    await asTenant(urls.AUTH_MIGRATION_DATABASE_URL!, 'create table accounts (id int)'); // grants on tables can drift too

    const drifts: Array<[string, string]> = [
      [`ALTER ROLE ${auth} PASSWORD 'changed-by-hand'`, 'DatabasePasswordDrift'],
      [`GRANT CONNECT ON DATABASE ${claims} TO PUBLIC`, 'DatabaseGrantDrift'],
      [`GRANT CONNECT ON DATABASE ${claims} TO ${otherAuth}`, 'DatabaseGrantDrift'],
      [`REVOKE CONNECT ON DATABASE ${auth} FROM ${auth}`, 'DatabaseGrantDrift'],
      [`ALTER ROLE ${auth} NOLOGIN`, 'DatabaseRoleDrift'],
      [`ALTER ROLE ${auth} CREATEDB`, 'DatabaseRoleDrift'],
      [`GRANT ${otherAuth} TO ${auth}`, 'DatabaseRoleMembershipDrift'],
      [`ALTER ROLE ${auth}_app BYPASSRLS`, 'DatabaseRoleDrift'],
      [`ALTER ROLE ${auth}_app PASSWORD 'changed-by-hand'`, 'DatabasePasswordDrift'],
      [`${auth}: GRANT CREATE ON SCHEMA public TO ${auth}_app`, 'DatabaseSchemaPrivilegeDrift'],
      [`${auth}: REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM ${auth}_app`, 'DatabaseSchemaPrivilegeDrift'],
      [`${auth}: ALTER DEFAULT PRIVILEGES FOR ROLE ${auth} IN SCHEMA public REVOKE DELETE ON TABLES FROM ${auth}_app`, 'DatabaseSchemaPrivilegeDrift'],
    ];
    for (const [command, reason] of drifts) {
      // `<database>: <sql>` runs inside that database (schema privileges are per database).
      const [database, statement] = command.includes(': ') ? command.split(': ') as [string, string] : ['postgres', command];
      await env.sql(database, statement);
      const error = await rejection(provisioner.verify(dedicated(id), creds)).catch((e: Error): Error & { reason?: string } => e);
      expect({ statement: command, error: error.name }).toEqual({ statement: command, error: 'ProvisionError' });
      expect({ statement: command, reason: error.reason }).toEqual({ statement: command, reason });
      await provisioner.ensure(dedicated(id), creds);
      await provisioner.verify(dedicated(id), creds);
    }
    // The other tenant was never granted anything in the end.
    await provisioner.verify(dedicated(other.id), other.creds);
    expect(await asTenant(urls.AUTH_DATABASE_URL!, 'select current_user as u')).toEqual([{ u: `${auth}_app` }]);
    expect(await asTenant(urls.AUTH_MIGRATION_DATABASE_URL!, 'select current_user as u')).toEqual([{ u: auth }]);
  });

  it('never opens a new database to PUBLIC: created closed, and a creation interrupted halfway is finished in order', async () => {
    const { id, creds } = await provisioned();
    const claims = tenantDatabaseName(id, 'claims');
    // As a crash right after CREATE DATABASE would leave it: closed, with PUBLIC's default CONNECT still in place.
    await env.sql('postgres', `DROP DATABASE ${claims} WITH (FORCE)`);
    await env.sql('postgres', `CREATE DATABASE ${claims} OWNER ${claims} ALLOW_CONNECTIONS false`);
    const error = await rejection(provisioner.verify(dedicated(id), creds));
    expect(error.reason).toBe('DatabaseGrantDrift');
    expect(error.message).toContain(`PUBLIC has`);
    await provisioner.ensure(dedicated(id), creds);
    const [row] = await env.sql<{ datallowconn: boolean; public_connect: boolean }>(
      'postgres',
      `select datallowconn, exists (select 1 from aclexplode(coalesce(datacl, acldefault('d', datdba))) a where a.grantee = 0) as public_connect
         from pg_database where datname = $1`,
      [claims],
    );
    expect(row).toEqual({ datallowconn: true, public_connect: false });
    await provisioner.verify(dedicated(id), creds);
  });

  it("isolates tenants from each other's databases, proven with their own credentials", async () => {
    const a = await provisioned();
    const b = await provisioned();
    const intoB = new URL(a.urls.AUTH_DATABASE_URL!);
    intoB.pathname = `/${tenantDatabaseName(b.id, 'auth')}`;
    const refused = await rejection(asTenant(intoB.toString(), 'select 1'));
    expect(refused.code).toBe('42501'); // permission denied for database
    // Not even its own tenant's other databases.
    const intoOwnClaims = new URL(a.urls.AUTH_DATABASE_URL!);
    intoOwnClaims.pathname = `/${tenantDatabaseName(a.id, 'claims')}`;
    expect((await rejection(asTenant(intoOwnClaims.toString(), 'select 1'))).code).toBe('42501');
    // B's password does not open A's database as B's role name either.
    const wrong = new URL(b.urls.AUTH_DATABASE_URL!);
    wrong.pathname = `/${tenantDatabaseName(a.id, 'auth')}`;
    expect((await rejection(asTenant(wrong.toString(), 'select 1'))).code).toBe('42501');
  });

  it('takes back a grant to a tenant role on a database that is not its own', async () => {
    const a = await provisioned();
    const platform = await env.createPlatformDatabase();
    const role = tenantDatabaseName(a.id, 'auth');
    await env.sql('postgres', `GRANT CONNECT ON DATABASE ${platform} TO ${role}`);
    const intoPlatform = new URL(a.urls.AUTH_MIGRATION_DATABASE_URL!);
    intoPlatform.pathname = `/${platform}`;
    expect(await asTenant(intoPlatform.toString(), 'select 1 as one')).toEqual([{ one: 1 }]); // the leak is real
    const error = await rejection(provisioner.verify(dedicated(a.id), a.creds));
    expect(error.reason).toBe('DatabaseGrantDrift');
    expect(error.message).toContain(`role ${role} has privileges on database ${platform}`);
    await provisioner.ensure(dedicated(a.id), a.creds);
    expect((await rejection(asTenant(intoPlatform.toString(), 'select 1'))).code).toBe('42501');
    await provisioner.verify(dedicated(a.id), a.creds);
  });

  it('retain disables logins and keeps the data; ensure afterwards lets the tenant back in', async () => {
    const { id, creds, urls } = await provisioned();
    await asTenant(urls.PAYMENTS_MIGRATION_DATABASE_URL!, 'create table payments (ref text)');
    await asTenant(urls.PAYMENTS_DATABASE_URL!, "insert into payments values ('kept')");
    const session = new Client({ connectionString: urls.PAYMENTS_DATABASE_URL });
    session.on('error', () => undefined);
    await session.connect();

    await provisioner.retain(dedicated(id));
    const refused = await rejection(asTenant(urls.PAYMENTS_DATABASE_URL!, 'select 1'));
    expect(refused.message).toMatch(/not permitted to log in/);
    expect((await rejection(session.query('select 1'))).message).toMatch(/terminat|Connection/i); // open sessions are ended
    await session.end().catch(() => undefined);
    expect(await env.sql(tenantDatabaseName(id, 'payments'), 'select ref from payments')).toEqual([{ ref: 'kept' }]);
    await provisioner.retain(dedicated(id)); // idempotent

    await provisioner.ensure(dedicated(id), creds);
    await provisioner.verify(dedicated(id), creds);
    expect(await asTenant(urls.PAYMENTS_DATABASE_URL!, 'select ref from payments')).toEqual([{ ref: 'kept' }]);
  });

  it('a suspended tenant keeps its databases with logins disabled, and verify checks that', async () => {
    const { id, creds, urls } = await provisioned();
    await provisioner.ensure(dedicated(id, true), creds);
    await provisioner.verify(dedicated(id, true), creds);
    expect((await rejection(asTenant(urls.AUTH_DATABASE_URL!, 'select 1'))).message).toMatch(/not permitted to log in/);
    await env.sql('postgres', `ALTER ROLE ${tenantDatabaseName(id, 'documents')} LOGIN`);
    expect((await rejection(provisioner.verify(dedicated(id, true), creds))).reason).toBe('DatabaseRoleDrift');
    await provisioner.ensure(dedicated(id, false), creds);
    await provisioner.verify(dedicated(id, false), creds);
  });

  it('remove drops every database and role of the tenant, and only those; twice is fine', async () => {
    const a = await provisioned();
    const b = await provisioned();
    await provisioner.remove(dedicated(a.id));
    await provisioner.remove(dedicated(a.id));
    const names = DATA_SERVICES.map((s) => tenantDatabaseName(a.id, s));
    expect(await env.sql('postgres', 'select datname from pg_database where datname = any($1)', [names])).toEqual([]);
    expect(await env.sql('postgres', 'select rolname from pg_roles where rolname = any($1)', [[...names, ...names.map((n) => `${n}_app`)]])).toEqual([]);
    await provisioner.verify(dedicated(b.id), b.creds);
  });

  it('removes a role even when someone granted it access to another database', async () => {
    const a = await provisioned();
    const platform = await env.createPlatformDatabase();
    await env.sql('postgres', `GRANT CONNECT ON DATABASE ${platform} TO ${tenantDatabaseName(a.id, 'auth')}`);
    await provisioner.remove(dedicated(a.id));
    expect(await env.sql('postgres', 'select 1 from pg_roles where rolname = $1', [tenantDatabaseName(a.id, 'auth')])).toEqual([]);
  });

  describe('shared tier', () => {
    it('creates nothing per tenant and verifies that every tenant_id table has forced Row-Level Security', async () => {
      const platform = await env.createPlatformDatabase();
      const sharedProvisioner = PostgresProvisioner.create({ ...env.config.postgres, platformDatabases: [platform], sharedCheckTtlMs: 0 });
      try {
        const id = uniqueTenantId();
        expect(await sharedProvisioner.ensure(shared(id), undefined as unknown as TenantPasswords)).toEqual({});
        expect(await env.sql('postgres', 'select 1 from pg_roles where rolname like $1', [`rf_${id.replace(/-/g, '_')}%`])).toEqual([]);

        await env.sql(platform, 'create table claims (id int, tenant_id text); create table lookups (code text); create table notes (tenant_id text)');
        await sharedProvisioner.verify(shared(id), undefined as unknown as TenantPasswords).then(
          () => { throw new Error('verify passed without RLS'); },
          (error: ProvisionError) => {
            expect(error.reason).toBe('RowLevelSecurityMissing');
            expect(error.message).toContain(`${platform}.public.claims (not enabled)`);
            expect(error.message).toContain(`${platform}.public.notes (not enabled)`);
            expect(error.message).not.toContain('lookups');
          },
        );
        await env.sql(platform, 'alter table claims enable row level security; alter table notes enable row level security; alter table notes force row level security');
        const notForced = await rejection(sharedProvisioner.verify(shared(id), undefined as unknown as TenantPasswords));
        expect(notForced.message).toContain(`${platform}.public.claims (not forced)`);
        expect(notForced.message).not.toContain('notes');
        await env.sql(platform, 'alter table claims force row level security');
        await sharedProvisioner.verify(shared(id), undefined as unknown as TenantPasswords);
      } finally {
        await sharedProvisioner.close();
      }
    });

    it('reports a missing platform database by name', async () => {
      const missing = PostgresProvisioner.create({ ...env.config.postgres, platformDatabases: ['rfx_no_such_database'], sharedCheckTtlMs: 0 });
      try {
        const error = await rejection(missing.verify(shared(uniqueTenantId()), undefined as unknown as TenantPasswords));
        expect(error.reason).toBe('PlatformDatabaseMissing');
        expect(error.message).toContain('rfx_no_such_database');
      } finally {
        await missing.close();
      }
    });
  });

  describe('when PostgreSQL cannot be reached', () => {
    let silent: { port: number; close(): Promise<void> };
    beforeAll(async () => {
      silent = await startSilentServer();
    });
    afterAll(async () => {
      await silent?.close();
    });
    const adminUrlAt = (port: number) => {
      const url = new URL(env.pgAdminUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    };

    it('fails fast with PostgresUnavailable, whether the port refuses or the server never answers', async () => {
      for (const adminUrl of [adminUrlAt(1), adminUrlAt(silent.port)]) {
        const down = PostgresProvisioner.create({ ...env.config.postgres, adminUrl, connectTimeoutMs: 1_000 });
        try {
          const started = Date.now();
          const error = await rejection(down.ensure(dedicated(uniqueTenantId()), passwords()));
          expect(error).toBeInstanceOf(ProvisionError);
          expect(error.reason).toBe('PostgresUnavailable');
          expect(error.message).toContain('RF_OPERATOR_POSTGRES_ADMIN_URL');
          expect(error.message).not.toContain(new URL(env.pgAdminUrl).password);
          expect(Date.now() - started).toBeLessThan(3_000);
        } finally {
          await down.close();
        }
      }
    });

    it('stops at once when the reconcile is aborted', async () => {
      const down = PostgresProvisioner.create({ ...env.config.postgres, adminUrl: adminUrlAt(silent.port), connectTimeoutMs: 30_000 });
      try {
        const controller = new AbortController();
        const started = Date.now();
        setTimeout(() => controller.abort(new Error('shutting down')), 200);
        const error = await rejection(down.ensure(dedicated(uniqueTenantId()), passwords(), controller.signal));
        expect(error.message).toBe('shutting down');
        expect(Date.now() - started).toBeLessThan(2_000);
      } finally {
        await silent.close(); // lets the pool's pending connect fail so close() returns
        silent = await startSilentServer();
        await down.close();
      }
    });
  });
});
