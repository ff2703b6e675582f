import { BusCommandFailedError } from '@rallyforge/bus';
import { Commands, Events, PLATFORM_TENANT } from '@rallyforge/contracts';
import { randomUUID } from 'node:crypto';
import {
  createEnvironment,
  eventually,
  EventListener,
  GOOD_PASSWORD,
  Http,
  startAuth,
  uniqueOrg,
  type AuthEnvironment,
  type RunningAuth,
} from '../test/auth-harness';
import type { DeprovisionOrganisationResult } from './services/organisation-lifecycle.service';

const operator = { kind: 'service' as const, id: 'operator', roles: [] };

describe('auth.organisation.deprovision (real RabbitMQ vhost, PostgreSQL)', () => {
  let env: AuthEnvironment;
  let auth: RunningAuth;
  let http: Http;
  let deleted: EventListener;

  beforeAll(async () => {
    env = await createEnvironment('auth_lifecycle');
    auth = await startAuth(env);
    http = new Http(auth.url);
    deleted = await EventListener.listen(env.broker, Events.organisationDeleted.type);
  });

  afterAll(async () => {
    await deleted?.close();
    await auth?.close();
    await env?.drop();
  });

  const upsert = (tenantId: string, admins: string[] = []) =>
    env.bus.request(
      Commands.upsertOrganisation,
      { tenantId, displayName: 'Lifecycle Org', registration: 'open', admins, suspended: false },
      { tenantId: PLATFORM_TENANT, actor: operator, timeoutMs: 15_000 },
    );

  const deprovision = (tenantId: string, mode: 'retain' | 'delete', options: { tenantId?: string; actor?: typeof operator | { kind: 'user'; id: string; roles: string[] } } = {}) =>
    env.bus.request<DeprovisionOrganisationResult>(
      Commands.deprovisionOrganisation,
      { tenantId, mode },
      { tenantId: options.tenantId ?? PLATFORM_TENANT, actor: options.actor ?? operator, timeoutMs: 15_000 },
    );

  async function member(org: string, email: string) {
    const registered = await http.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
    expect(registered.status).toBe(201);
    const login = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
    expect(login.status).toBe(200);
    return { id: registered.body.id as string, refreshToken: login.body.refreshToken as string };
  }

  it('retain: locks the organisation (logins and refreshes refused) and keeps every row; repeating it is a no-op', async () => {
    const org = uniqueOrg('retain');
    await upsert(org);
    const alice = await member(org, 'alice@example.org');
    await member(org, 'bob@example.org');

    const reply = await deprovision(org, 'retain');
    expect(reply).toEqual({ tenantId: org, mode: 'retain', found: true, revokedRefreshTokens: 2, deleted: {}, purgeRequested: false });

    const login = await http.post('/login', { organisation: org, email: 'alice@example.org', password: GOOD_PASSWORD });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe('ORGANISATION_SUSPENDED');
    const refresh = await http.post('/refresh', { refreshToken: alice.refreshToken });
    expect(refresh.status).toBe(401);

    const users = await env.sql.query('SELECT count(*)::int AS n FROM users WHERE tenant_id = $1', [org]);
    expect(users.rows[0].n).toBe(2);
    const live = await env.sql.query('SELECT count(*)::int AS n FROM refresh_tokens WHERE tenant_id = $1 AND revoked_at IS NULL', [org]);
    expect(live.rows[0].n).toBe(0);

    expect(await deprovision(org, 'retain')).toMatchObject({ found: true, revokedRefreshTokens: 0 });
  });

  it('delete: removes users, tokens, invitations, subscriptions and the organisation, and publishes organisation.deleted once committed', async () => {
    const org = uniqueOrg('delete');
    const other = uniqueOrg('bystander');
    await upsert(org, ['admin@example.org']);
    await upsert(other);
    const carol = await member(org, 'carol@example.org');
    const bystander = await member(other, 'dave@example.org');
    await env.sql.query(
      `INSERT INTO subscriptions (user_id, tenant_id, plan_id, current_period_end, last_payment_id) VALUES ($1, $2, 'basic', now() + interval '1 day', $3)`,
      [carol.id, org, randomUUID()],
    );

    const reply = await deprovision(org, 'delete');
    expect(reply).toMatchObject({ tenantId: org, mode: 'delete', found: true, purgeRequested: true, revokedRefreshTokens: 0 });
    expect(reply.deleted).toMatchObject({ users: 1, refresh_tokens: 1, invitations: 1, subscriptions: 1, organisations: 1 });

    for (const table of ['users', 'refresh_tokens', 'invitations', 'subscriptions']) {
      const { rows } = await env.sql.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [org]);
      expect({ table, n: rows[0].n }).toEqual({ table, n: 0 });
    }
    expect((await env.sql.query('SELECT 1 FROM organisations WHERE id = $1', [org])).rows).toHaveLength(0);
    // The audit log is append-only, for the purge too: it still says what happened to the organisation.
    expect(reply.deleted).not.toHaveProperty('audit_events');
    // The other organisation is untouched.
    expect((await env.sql.query('SELECT 1 FROM users WHERE id = $1', [bystander.id])).rows).toHaveLength(1);
    expect((await http.post('/refresh', { refreshToken: bystander.refreshToken })).status).toBe(200);

    const event = await eventually(async () => deleted.bodies().find((body) => body.data.tenantId === org));
    expect(event).toMatchObject({ type: 'organisation.deleted', tenantId: org, actor: { kind: 'service', id: 'auth' }, data: { tenantId: org } });

    // Repeating it (or naming an organisation that never existed) succeeds, deletes nothing more and re-drives the purge.
    const again = await deprovision(org, 'delete');
    expect(again).toEqual({ tenantId: org, mode: 'delete', found: false, revokedRefreshTokens: 0, deleted: {}, purgeRequested: true });
    await eventually(async () => deleted.bodies().filter((body) => body.data.tenantId === org).length === 2);
    expect(await deprovision(uniqueOrg('never'), 'retain')).toMatchObject({ found: false });
  });

  it('refuses a user actor and a message addressed to another tenant, and changes nothing', async () => {
    const org = uniqueOrg('guarded');
    await upsert(org);
    const attempt = deprovision(org, 'delete', { actor: { kind: 'user', id: randomUUID(), roles: ['platform_admin'] } });
    await expect(attempt).rejects.toBeInstanceOf(BusCommandFailedError);
    await expect(attempt).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(deprovision(org, 'delete', { tenantId: 'someone-else' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { rows } = await env.sql.query('SELECT suspended FROM organisations WHERE id = $1', [org]);
    expect(rows).toEqual([{ suspended: false }]);
  });
});
