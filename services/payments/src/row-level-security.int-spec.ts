import { randomUUID } from 'node:crypto';
import { describeTenantIsolation, inTenant, TENANT_A, TENANT_B } from '@rallyforge/tools/test/row-level-security';
import { migrate } from './migrate';
import { PAYMENT_TENANT_LOOKUP } from './migrations/1790000000000-row-level-security';

/** Provider references of the succeeded payments inserted per tenant (webhooks look payments up by them). */
const refsOf: Record<string, string[]> = {};

describe('payments database: Row-Level Security as the runtime role', () => {
  const suite = describeTenantIsolation({
    label: 'payments_rls',
    migrate: async (url) => {
      await migrate({ MIGRATION_DATABASE_URL: url, NODE_ENV: 'production', LOG_LEVEL: 'silent' });
    },
    tables: [
      {
        table: 'payments',
        insert: async (client, tenantId) => {
          const ref = `dev_${randomUUID()}`;
          await client.query(
            `INSERT INTO payments (id, tenant_id, user_id, plan_id, amount_cents, currency, status, provider, provider_ref, period_end)
             VALUES ($1, $2, $3, 'monthly', 900, 'USD', 'succeeded', 'dev-instant', $4, now() + interval '30 days')`,
            [randomUUID(), tenantId, randomUUID(), ref],
          );
          (refsOf[tenantId] ??= []).push(ref);
        },
      },
    ],
  });

  it('finds the tenant of a provider reference before any tenant is bound (webhooks), and nothing more', async () => {
    const lookup = (ref: string) =>
      suite.app.query<{ tenant_id: string | null }>(`SELECT ${PAYMENT_TENANT_LOOKUP}('dev-instant', $1) AS tenant_id`, [ref]);
    expect((await lookup(refsOf[TENANT_B]![0]!)).rows).toEqual([{ tenant_id: TENANT_B }]);
    expect((await lookup(refsOf[TENANT_A]![0]!)).rows).toEqual([{ tenant_id: TENANT_A }]);
    expect((await lookup('dev_unknown')).rows).toEqual([{ tenant_id: null }]);
    // With the tenant it found bound, the webhook sees that payment, and under a wrong binding nothing.
    const ref = refsOf[TENANT_B]![0]!;
    const seen = (tenantId: string) =>
      inTenant(suite.app, tenantId, async () => (await suite.app.query('SELECT tenant_id FROM payments WHERE provider_ref = $1', [ref])).rows);
    expect(await seen(TENANT_B)).toEqual([{ tenant_id: TENANT_B }]);
    expect(await seen(TENANT_A)).toEqual([]);
  });

  it('keeps the lookup narrow: SECURITY DEFINER with a fixed search_path, callable by the runtime role and not by PUBLIC', async () => {
    const { rows } = await suite.app.query<{ definer: boolean; config: string[]; volatility: string; publicCanRun: boolean }>(
      `SELECT p.prosecdef AS definer, p.proconfig AS config, p.provolatile AS volatility,
              EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS "publicCanRun"
       FROM pg_proc p WHERE p.proname = $1`,
      [PAYMENT_TENANT_LOOKUP],
    );
    expect(rows).toEqual([{ definer: true, config: ['search_path=pg_catalog, public, pg_temp'], volatility: 's', publicCanRun: false }]);
  });

  it('needs the owner URL (MIGRATION_DATABASE_URL) to migrate in production; DATABASE_URL is the runtime role', async () => {
    await expect(migrate({ DATABASE_URL: suite.database.appUrl, NODE_ENV: 'production', LOG_LEVEL: 'silent' })).rejects.toThrow(
      /MIGRATION_DATABASE_URL: expected a postgres:\/\/ URL of the database owner role/,
    );
  });
});
