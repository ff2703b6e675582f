import { Commands, Events, PLATFORM_TENANT, type AuditEntry } from '@rallyforge/contracts';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  createEnvironment,
  eventually,
  GOOD_PASSWORD,
  Http,
  insertOrganisation,
  startAuth,
  uniqueOrg,
  type AuthEnvironment,
  type RunningAuth,
} from '../../test/auth-harness';

const claimsService = { kind: 'service' as const, id: 'claims', roles: [] };

describe('the audit log (real PostgreSQL, RabbitMQ, Redis)', () => {
  let env: AuthEnvironment;
  let auth: RunningAuth;
  let http: Http;

  beforeAll(async () => {
    env = await createEnvironment('auth_audit');
    auth = await startAuth(env);
    http = new Http(auth.url);
  });

  afterAll(async () => {
    await auth?.close();
    await env?.drop();
  });

  /** Registers a user in `org` (open) and gives them `role` (by SQL, as only an invitation could), then logs in. */
  async function member(org: string, role: 'veteran' | 'representative' | 'org_admin' | 'platform_admin', email = `${role}@example.org`) {
    const registered = await http.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
    expect(registered.status).toBe(201);
    if (role !== 'veteran') await env.sql.query('UPDATE users SET role = $1 WHERE id = $2', [role, registered.body.id]);
    const login = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
    expect(login.status).toBe(200);
    return { id: registered.body.id as string, token: login.body.accessToken as string };
  }

  async function organisation(label: string): Promise<string> {
    const org = uniqueOrg(label);
    await insertOrganisation(env.sql, org);
    return org;
  }

  const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
    action: 'claim.status_changed',
    actor: { kind: 'user', id: randomUUID() },
    target: { type: 'claim', id: randomUUID() },
    result: 'success',
    ip: '203.0.113.7',
    userAgent: 'test-agent/1.0',
    details: { from: 'submitted', to: 'in_review' },
    ...overrides,
  });

  const rowsOf = async (tenantId: string) =>
    (await env.sql.query('SELECT * FROM audit_events WHERE tenant_id = $1 ORDER BY occurred_at', [tenantId])).rows;

  describe('audit.recorded from other services', () => {
    it('stores the entry under the envelope tenant, once even when the message comes twice', async () => {
      const org = await organisation('store');
      const sent = entry();
      const messageId = randomUUID();
      await env.bus.publishEvent(Events.auditRecorded, sent, { tenantId: org, actor: claimsService, messageId });
      await env.bus.publishEvent(Events.auditRecorded, sent, { tenantId: org, actor: claimsService, messageId });
      await eventually(async () => (await rowsOf(org)).length === 1);
      // The duplicate went through the consumer too (the inbox drops it): give it time to prove nothing more lands.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await rowsOf(org);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        tenant_id: org,
        source: 'claims',
        message_id: messageId,
        actor_kind: 'user',
        actor_id: sent.actor.id,
        action: 'claim.status_changed',
        target_type: 'claim',
        target_id: sent.target!.id,
        result: 'success',
        ip: '203.0.113.7',
        user_agent: 'test-agent/1.0',
        details: { from: 'submitted', to: 'in_review' },
      });
    });

    it('refuses an entry whose envelope actor is a user: only services may write the audit log over the bus', async () => {
      const org = await organisation('forged');
      const forger = { kind: 'user' as const, id: randomUUID(), roles: ['org_admin'] };
      await env.bus.publishEvent(Events.auditRecorded, entry({ action: 'claim.forged' }), { tenantId: org, actor: forger });
      // A legitimate entry published after it lands; the forged one never does.
      await env.bus.publishEvent(Events.auditRecorded, entry({ action: 'claim.real' }), { tenantId: org, actor: claimsService });
      // The refusal itself is audited: auth records access.denied naming the forger.
      await eventually(async () => (await rowsOf(org)).length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await rowsOf(org);
      expect(rows.map((row) => row.action).sort()).toEqual(['access.denied', 'claim.real']);
      expect(rows.find((row) => row.action === 'access.denied')).toMatchObject({
        actor_kind: 'user',
        actor_id: forger.id,
        result: 'denied',
        details: expect.objectContaining({ permission: 'audit:record', via: 'rpc' }),
      });
    });

    it('cannot be published with a secret in its details (the contract refuses it at the producer)', async () => {
      await expect(
        env.bus.publishEvent(Events.auditRecorded, entry({ details: { password: 'hunter2' } }), { tenantId: 'x', actor: claimsService }),
      ).rejects.toThrow(/secrets/);
    });
  });

  describe('the table is append-only', () => {
    let org: string;

    beforeAll(async () => {
      org = await organisation('append');
      await env.bus.publishEvent(Events.auditRecorded, entry(), { tenantId: org, actor: claimsService });
      await eventually(async () => (await rowsOf(org)).length === 1);
    });

    async function asAppRole<T>(work: (client: Client) => Promise<T>): Promise<T> {
      const client = new Client({ connectionString: env.database.appUrl });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [org]);
        return await work(client);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
    }

    it('lets the runtime role INSERT and SELECT', async () => {
      const count = await asAppRole(async (client) => {
        await client.query(
          `INSERT INTO audit_events (tenant_id, occurred_at, source, actor_kind, actor_id, action, result)
           VALUES ($1, now(), 'auth', 'service', 'auth', 'test.inserted', 'success')`,
          [org],
        );
        return (await client.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n;
      });
      expect(count).toBe(2);
    });

    it.each([
      ['UPDATE', `UPDATE audit_events SET action = 'claim.rewritten'`],
      ['DELETE', 'DELETE FROM audit_events'],
      ['TRUNCATE', 'TRUNCATE audit_events'],
    ])('refuses %s from the runtime role (no privilege)', async (_verb, statement) => {
      await expect(asAppRole((client) => client.query(statement))).rejects.toMatchObject({ code: '42501' });
    });

    it.each([
      ['UPDATE', `UPDATE audit_events SET action = 'claim.rewritten' WHERE tenant_id = $1`, true],
      ['DELETE', 'DELETE FROM audit_events WHERE tenant_id = $1', true],
      ['TRUNCATE', 'TRUNCATE audit_events', false],
    ])('refuses %s even from the owner (trigger), so history cannot be rewritten quietly', async (_verb, statement, withTenant) => {
      await expect(env.sql.query(statement, withTenant ? [org] : [])).rejects.toThrow(/append-only/);
      expect((await rowsOf(org)).map((row) => row.action)).toContain('claim.status_changed');
    });
  });

  describe('GET /auth/audit', () => {
    let orgA: string;
    let orgB: string;
    let adminA: { id: string; token: string };
    let adminB: { id: string; token: string };
    let veteranA: { id: string; token: string };
    const actorA = randomUUID();

    beforeAll(async () => {
      orgA = await organisation('read-a');
      orgB = await organisation('read-b');
      adminA = await member(orgA, 'org_admin');
      adminB = await member(orgB, 'org_admin');
      veteranA = await member(orgA, 'veteran');
      const at = (iso: string) => ({ occurredAt: new Date(iso) });
      for (const [tenantId, action, actorId, when] of [
        [orgA, 'claim.created', actorA, '2026-01-01T10:00:00.000Z'],
        [orgA, 'claim.status_changed', actorA, '2026-01-02T10:00:00.000Z'],
        [orgA, 'document.downloaded', randomUUID(), '2026-01-03T10:00:00.000Z'],
        [orgB, 'claim.created', randomUUID(), '2026-01-02T12:00:00.000Z'],
      ] as const) {
        await env.bus.publishEvent(Events.auditRecorded, entry({ action, actor: { kind: 'user', id: actorId } }), {
          tenantId,
          actor: claimsService,
          ...at(when),
        });
      }
      await eventually(async () => (await rowsOf(orgA)).length === 3 && (await rowsOf(orgB)).length === 1);
    });

    const list = (token: string, query = '') => http.get(`/audit${query}`, token);

    it("gives an org_admin their organisation's entries, newest first, and nothing of another organisation", async () => {
      const response = await list(adminA.token);
      expect(response.status).toBe(200);
      expect(response.body.items.map((item: { action: string }) => item.action)).toEqual([
        'document.downloaded',
        'claim.status_changed',
        'claim.created',
      ]);
      expect(response.body.items[0]).toMatchObject({ source: 'claims', result: 'success', actor: { kind: 'user' }, ip: '203.0.113.7' });
      expect(response.body.nextCursor).toBeNull();

      const other = await list(adminB.token);
      expect(other.body.items).toHaveLength(1);
      expect(other.body.items[0].occurredAt).toBe('2026-01-02T12:00:00.000Z');
    });

    it('filters by actor, action and time range, and pages with a cursor', async () => {
      const byActor = await list(adminA.token, `?actor=${actorA}`);
      expect(byActor.body.items.map((item: { action: string }) => item.action)).toEqual(['claim.status_changed', 'claim.created']);
      const byAction = await list(adminA.token, '?action=claim.created');
      expect(byAction.body.items).toHaveLength(1);
      const byRange = await list(adminA.token, '?from=2026-01-02T00:00:00Z&to=2026-01-03T00:00:00Z');
      expect(byRange.body.items.map((item: { action: string }) => item.action)).toEqual(['claim.status_changed']);

      const first = await list(adminA.token, '?limit=2');
      expect(first.body.items).toHaveLength(2);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await list(adminA.token, `?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items.map((item: { action: string }) => item.action)).toEqual(['claim.created']);
      expect(second.body.nextCursor).toBeNull();
    });

    it('refuses bad filters with a 400 that says what is wrong', async () => {
      for (const query of ['?from=yesterday', '?action=DROP%20TABLE', '?cursor=bm90LWEtY3Vyc29y', '?limit=0', '?tenantId=other']) {
        const response = await list(adminA.token, query);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ statusCode: 400, code: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
      }
      const inverted = await list(adminA.token, '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
      expect(inverted.status).toBe(400);
    });

    it('refuses a veteran (403) and records the refusal in the audit log', async () => {
      const response = await list(veteranA.token);
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('FORBIDDEN');
      await eventually(async () => (await rowsOf(orgA)).some((row) => row.action === 'access.denied' && row.actor_id === veteranA.id));
      const denied = (await rowsOf(orgA)).find((row) => row.action === 'access.denied')!;
      expect(denied).toMatchObject({ result: 'denied', source: 'auth', details: expect.objectContaining({ permission: 'audit:read' }) });
    });

    it('refuses a platform_admin: they manage organisations but read no organisation data', async () => {
      const platformOrg = await organisation('platform');
      const platformAdmin = await member(platformOrg, 'platform_admin');
      expect((await list(platformAdmin.token)).status).toBe(403);
    });

    it('needs a token', async () => {
      expect((await list('')).status).toBe(401);
    });
  });

  describe('organisation limits from auth.organisation.upsert', () => {
    it('stores the limits and publishes them to Redis for every service', async () => {
      const org = uniqueOrg('limits');
      const operator = { kind: 'service' as const, id: 'operator', roles: [] };
      const upsert = (limits?: Record<string, number>) =>
        env.bus.request(
          Commands.upsertOrganisation,
          { tenantId: org, displayName: 'Limited', registration: 'open', admins: [], suspended: false, ...(limits ? { limits } : {}) },
          { tenantId: PLATFORM_TENANT, actor: operator, timeoutMs: 15_000 },
        );
      await upsert({ apiRequestsPerMinute: 30, users: 5, documentStorageBytes: 1_000_000 });
      const { rows } = await env.sql.query(
        'SELECT api_requests_per_minute, max_users, document_storage_bytes FROM organisations WHERE id = $1',
        [org],
      );
      expect(rows).toEqual([{ api_requests_per_minute: 30, max_users: 5, document_storage_bytes: '1000000' }]);
      const redis = new (await import('ioredis')).default(process.env.RF_TEST_REDIS_URL!);
      try {
        expect(await redis.hgetall(`t:${org}:tenant-limits`)).toEqual({ apiRequestsPerMinute: '30', users: '5', documentStorageBytes: '1000000' });
        // Without `limits` the stored ones stay; with fewer fields the others are lifted.
        await upsert();
        expect(await redis.hget(`t:${org}:tenant-limits`, 'users')).toBe('5');
        await upsert({ apiRequestsPerMinute: 99 });
        expect(await redis.hgetall(`t:${org}:tenant-limits`)).toEqual({ apiRequestsPerMinute: '99' });
      } finally {
        redis.disconnect();
      }
    });

    it('refuses limits that are not positive integers (the contract)', async () => {
      await expect(
        env.bus.request(
          Commands.upsertOrganisation,
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          { tenantId: uniqueOrg('bad'), displayName: 'x', registration: 'open', admins: [], suspended: false, limits: { apiRequestsPerMinute: 0 } } as any,
          { tenantId: PLATFORM_TENANT, actor: { kind: 'service', id: 'operator', roles: [] } },
        ),
      ).rejects.toThrow(/limits\.apiRequestsPerMinute/);
    });
  });
});
