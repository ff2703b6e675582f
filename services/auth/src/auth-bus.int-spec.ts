import { BusCommandFailedError } from '@rallyforge/bus';
import { Commands, Events, PLATFORM_TENANT, type Payload } from '@rallyforge/contracts';
import { randomUUID } from 'node:crypto';
import {
  createEnvironment,
  eventually,
  GOOD_PASSWORD,
  Http,
  startAuth,
  uniqueOrg,
  type AuthEnvironment,
  type RunningAuth,
} from '../test/auth-harness';
import type { UpsertOrganisationResult } from './services/organisation.service';

const operator = { kind: 'service' as const, id: 'operator', roles: [] };

describe('auth on the bus (real RabbitMQ vhost, PostgreSQL)', () => {
  let env: AuthEnvironment;
  let auth: RunningAuth;
  let http: Http;

  beforeAll(async () => {
    env = await createEnvironment('auth_bus');
    auth = await startAuth(env);
    http = new Http(auth.url);
  });

  afterAll(async () => {
    await auth?.close();
    await env?.drop();
  });

  const upsert = (payload: Partial<Payload<typeof Commands.upsertOrganisation>> & { tenantId: string }, options = {}) =>
    env.bus.request<UpsertOrganisationResult>(
      Commands.upsertOrganisation,
      { displayName: 'Bus Org', registration: 'open', admins: [], suspended: false, ...payload },
      { tenantId: PLATFORM_TENANT, actor: operator, timeoutMs: 15_000, ...options },
    );

  async function registerAndLogin(org: string, email: string) {
    const registered = await http.post('/register', { organisation: org, email, password: GOOD_PASSWORD });
    expect(registered.status).toBe(201);
    const login = await http.post('/login', { organisation: org, email, password: GOOD_PASSWORD });
    expect(login.status).toBe(200);
    return { id: registered.body.id as string, token: login.body.accessToken as string };
  }

  describe('auth.organisation.upsert', () => {
    it('creates the organisation, invites its admins, and updates it on a second call', async () => {
      const org = uniqueOrg('cmd');
      const reply = await upsert({ tenantId: org, displayName: 'Veterans of Somewhere', admins: ['Boss@Example.org', 'boss@example.org'] });
      expect(reply).toEqual({ tenantId: org, created: true, invited: ['boss@example.org'] });

      const { rows } = await env.sql.query('SELECT display_name, registration, suspended FROM organisations WHERE id = $1', [org]);
      expect(rows).toEqual([{ display_name: 'Veterans of Somewhere', registration: 'open', suspended: false }]);
      const invitations = await env.sql.query(
        'SELECT email, role, token_hash, expires_at > now() AS live, accepted_at FROM invitations WHERE tenant_id = $1',
        [org],
      );
      expect(invitations.rows).toEqual([
        { email: 'boss@example.org', role: 'org_admin', token_hash: expect.stringMatching(/^[0-9a-f]{64}$/), live: true, accepted_at: null },
      ]);
      const firstHash = invitations.rows[0].token_hash;

      const again = await upsert({ tenantId: org, displayName: 'Renamed', registration: 'invite', admins: ['boss@example.org'] });
      expect(again).toEqual({ tenantId: org, created: false, invited: ['boss@example.org'] });
      const updated = await env.sql.query('SELECT display_name, registration FROM organisations WHERE id = $1', [org]);
      expect(updated.rows).toEqual([{ display_name: 'Renamed', registration: 'invite' }]);
      // A live invitation is kept, not re-issued.
      const after = await env.sql.query('SELECT token_hash FROM invitations WHERE tenant_id = $1', [org]);
      expect(after.rows).toEqual([{ token_hash: firstHash }]);

      // The organisation is usable: now invite-only, so registration is closed.
      const register = await http.post('/register', { organisation: org, email: 'x@example.org', password: GOOD_PASSWORD });
      expect(register.status).toBe(403);
      expect(register.body.code).toBe('REGISTRATION_CLOSED');
    });

    it('does not invite admins who are already members', async () => {
      const org = uniqueOrg('member');
      await upsert({ tenantId: org });
      await registerAndLogin(org, 'member@example.org');
      const reply = await upsert({ tenantId: org, admins: ['member@example.org', 'fresh@example.org'] });
      expect(reply).toEqual({ tenantId: org, created: false, invited: ['fresh@example.org'] });
    });

    it('refuses a user actor with FORBIDDEN and changes nothing', async () => {
      const org = uniqueOrg('user-actor');
      const attempt = upsert({ tenantId: org }, { actor: { kind: 'user', id: randomUUID(), roles: ['platform_admin'] } });
      await expect(attempt).rejects.toBeInstanceOf(BusCommandFailedError);
      await expect(attempt).rejects.toMatchObject({ code: 'FORBIDDEN' });
      const { rows } = await env.sql.query('SELECT 1 FROM organisations WHERE id = $1', [org]);
      expect(rows).toHaveLength(0);
    });

    it('refuses a message addressed to another tenant than the organisation it changes', async () => {
      const org = uniqueOrg('mismatch');
      await expect(upsert({ tenantId: org }, { tenantId: 'someone-else' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      const { rows } = await env.sql.query('SELECT 1 FROM organisations WHERE id = $1', [org]);
      expect(rows).toHaveLength(0);
    });
  });

  describe('payment.succeeded', () => {
    const payment = (userId: string, periodEnd: Date) => ({
      paymentId: randomUUID(),
      userId,
      planId: 'premium-monthly',
      amountCents: 1999,
      currency: 'USD',
      periodEnd: periodEnd.toISOString(),
    });
    const payments = { kind: 'service' as const, id: 'payments', roles: [] };

    it('makes /me show an active subscription', async () => {
      const org = uniqueOrg('pay');
      await upsert({ tenantId: org });
      const user = await registerAndLogin(org, 'payer@example.org');
      expect((await http.get('/me', user.token)).body.subscription).toEqual({ status: 'none' });

      const periodEnd = new Date(Date.now() + 30 * 24 * 3600 * 1000);
      periodEnd.setMilliseconds(0);
      await env.bus.publishEvent(Events.paymentSucceeded, payment(user.id, periodEnd), { tenantId: org, actor: payments });

      const me = await eventually(async () => {
        const response = await http.get('/me', user.token);
        return response.body.subscription.status === 'active' ? response.body : undefined;
      });
      expect(me.subscription).toEqual({ status: 'active', planId: 'premium-monthly', currentPeriodEnd: periodEnd.toISOString() });
    });

    it("refuses an event whose tenant is not the user's organisation", async () => {
      const victimOrg = uniqueOrg('victim');
      const otherOrg = uniqueOrg('other');
      await upsert({ tenantId: victimOrg });
      await upsert({ tenantId: otherOrg });
      const victim = await registerAndLogin(victimOrg, 'victim@example.org');
      const other = await registerAndLogin(otherOrg, 'other@example.org');
      const periodEnd = new Date(Date.now() + 30 * 24 * 3600 * 1000);

      // Addressed to the other organisation but naming the victim: must not touch the victim's account.
      await env.bus.publishEvent(Events.paymentSucceeded, payment(victim.id, periodEnd), { tenantId: otherOrg, actor: payments });
      // A valid event published afterwards shows the consumer has moved past the refused one.
      await env.bus.publishEvent(Events.paymentSucceeded, payment(other.id, periodEnd), { tenantId: otherOrg, actor: payments });
      await eventually(async () => (await http.get('/me', other.token)).body.subscription.status === 'active');

      expect((await http.get('/me', victim.token)).body.subscription).toEqual({ status: 'none' });
      const { rows } = await env.sql.query('SELECT 1 FROM subscriptions WHERE user_id = $1', [victim.id]);
      expect(rows).toHaveLength(0);
    });
  });
});
