import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { describeTenantIsolation, inTenant, sqlError, TENANT_A, TENANT_B } from '@rallyforge/tools/test/row-level-security';
import { Client, type Client as PgClient } from 'pg';
import { AUTH_DATABASE } from './database';

/** The users of each tenant, in insertion order: child rows point at them. */
const usersOf: Record<string, string[]> = {};
const subscribed: Record<string, number> = {};

async function insertUser(client: PgClient, tenantId: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (tenant_id, email, password_hash) VALUES ($1, $2, 'not-a-hash') RETURNING id`,
    [tenantId, `${randomBytes(6).toString('hex')}@example.org`],
  );
  return rows[0]!.id;
}

const hash = () => randomBytes(32).toString('hex');

describe('auth database: Row-Level Security as the runtime role', () => {
  const suite = describeTenantIsolation({
    label: 'auth_rls',
    migrate: async (url) => {
      await runMigrations(postgresDataSourceOptions({ ...AUTH_DATABASE, url }), {
        logger: createLogger({ service: 'auth-test', level: 'silent' }),
      });
      // The organisations exist before their members (the operator's upsert); the owner bypasses RLS for fixtures.
      const owner = new Client({ connectionString: url });
      await owner.connect();
      await owner.query(`INSERT INTO organisations (id, display_name, registration) VALUES ($1, 'A', 'open'), ($2, 'B', 'open')`, [TENANT_A, TENANT_B]);
      await owner.end();
    },
    tables: [
      {
        table: 'users',
        insert: async (client, tenantId) => {
          (usersOf[tenantId] ??= []).push(await insertUser(client, tenantId));
        },
      },
      {
        table: 'refresh_tokens',
        insert: async (client, tenantId) => {
          await client.query(
            `INSERT INTO refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, now() + interval '1 day')`,
            [tenantId, usersOf[tenantId]![0], randomUUID(), hash()],
          );
        },
      },
      {
        table: 'invitations',
        insert: async (client, tenantId) => {
          await client.query(
            `INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at) VALUES ($1, $2, 'org_admin', $3, now() + interval '1 day')`,
            [tenantId, `${randomBytes(6).toString('hex')}@example.org`, hash()],
          );
        },
      },
      {
        table: 'subscriptions',
        insert: async (client, tenantId) => {
          // One subscription per user: each row takes the tenant's next member (the last one again once all have one,
          // which only the refused cross-tenant insert does: the policy check comes before the key's).
          const users = usersOf[tenantId]!;
          const userId = users[Math.min(subscribed[tenantId] ?? 0, users.length - 1)];
          await client.query(
            `INSERT INTO subscriptions (user_id, tenant_id, plan_id, current_period_end, last_payment_id) VALUES ($1, $2, 'monthly', now(), $3)`,
            [userId, tenantId, randomUUID()],
          );
          subscribed[tenantId] = (subscribed[tenantId] ?? 0) + 1;
        },
      },
    ],
  });

  it('isolates organisations by their id: a tenant sees and writes its own organisation only', async () => {
    const seen = (tenantId: string | undefined) =>
      inTenant(suite.app, tenantId, async () => (await suite.app.query<{ id: string }>('SELECT id FROM organisations ORDER BY id')).rows.map((r) => r.id));
    expect(await seen(TENANT_A)).toEqual([TENANT_A]);
    expect(await seen(TENANT_B)).toEqual([TENANT_B]);
    expect(await seen(undefined)).toEqual([]);
    const foreign = await sqlError(
      inTenant(suite.app, TENANT_A, () => suite.app.query(`INSERT INTO organisations (id, display_name, registration) VALUES ('initech', 'I', 'open')`)),
    );
    expect(foreign.message).toMatch(/row-level security/);
    // The operator's upsert binds the organisation it creates first, so creating it is allowed.
    await inTenant(suite.app, 'initech', () => suite.app.query(`INSERT INTO organisations (id, display_name, registration) VALUES ('initech', 'I', 'open')`));
    const renamed = await inTenant(suite.app, TENANT_A, () => suite.app.query(`UPDATE organisations SET display_name = 'taken over' WHERE id = $1`, [TENANT_B]));
    expect(renamed.rowCount).toBe(0);
  });

  it('keeps signing keys platform-level: readable and writable with no tenant bound', async () => {
    await inTenant(suite.app, undefined, async () => {
      await suite.app.query(
        `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_key_encrypted, retires_at) VALUES ('k1', 'EdDSA', '{}', '\\x00', now() + interval '1 day')`,
      );
      expect((await suite.app.query('SELECT kid FROM signing_keys')).rows).toEqual([{ kid: 'k1' }]);
    });
  });
});
