import { randomUUID } from 'node:crypto';
import { createLogger, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { describeTenantIsolation, inTenant, TENANT_A, TENANT_B } from '@rallyforge/tools/test/row-level-security';
import { DataSource } from 'typeorm';
import { CLAIMS_ENTITIES } from './entities/claims-entities';
import { CLAIMS_MIGRATIONS } from './migrations/claims-migrations';
import { readInTenant, type PgPool } from './repositories/tenant-transaction';

/** The first claim inserted for each tenant: evidence rows point at it. */
const claimOf: Record<string, string> = {};

describe('claims database: Row-Level Security as the runtime role', () => {
  const suite = describeTenantIsolation({
    label: 'claims_rls',
    migrate: async (url) => {
      await runMigrations(postgresDataSourceOptions({ url, entities: CLAIMS_ENTITIES, migrations: CLAIMS_MIGRATIONS }), {
        logger: createLogger({ service: 'claims-test', level: 'silent' }),
      });
    },
    tables: [
      {
        table: 'claims',
        insert: async (client, tenantId) => {
          const id = randomUUID();
          await client.query(`INSERT INTO claims (id, tenant_id, owner_id, title, type) VALUES ($1, $2, $3, 'Knee injury', 'pension')`, [
            id,
            tenantId,
            randomUUID(),
          ]);
          claimOf[tenantId] ??= id;
        },
      },
      {
        table: 'claim_evidence',
        insert: async (client, tenantId) => {
          await client.query(
            `INSERT INTO claim_evidence (id, tenant_id, claim_id, document_id, filename, content_type, size_bytes, sha256)
             VALUES ($1, $2, $3, $4, 'dd214.pdf', 'application/pdf', 10, $5)`,
            [randomUUID(), tenantId, claimOf[tenantId], randomUUID(), 'f'.repeat(64)],
          );
        },
      },
    ],
  });

  it("serves the hot-path reads (named statements on the pool) from the bound tenant's rows only", async () => {
    const db = new DataSource(postgresDataSourceOptions({ url: suite.database.appUrl, entities: CLAIMS_ENTITIES, migrations: [] }));
    await db.initialize();
    try {
      const pool = (db.driver as unknown as { master: PgPool }).master;
      const statement = { name: 'rls_probe', text: 'SELECT tenant_id FROM claims', values: [] };
      // One connection: the binding must not outlive its transaction on a pooled connection.
      for (let i = 0; i < 3; i++) {
        expect((await readInTenant<{ tenant_id: string }>(pool, TENANT_A, statement)).map((r) => r.tenant_id)).toEqual([TENANT_A, TENANT_A]);
        expect((await readInTenant<{ tenant_id: string }>(pool, TENANT_B, statement)).map((r) => r.tenant_id)).toEqual([TENANT_B]);
      }
      expect(await db.query('SELECT tenant_id FROM claims')).toEqual([]);
      // Read only: even a bug that tried to write on the read path could not.
      await expect(
        readInTenant(pool, TENANT_A, { name: 'rls_write', text: `UPDATE claims SET title = 'x' WHERE tenant_id = $1`, values: [TENANT_A] }),
      ).rejects.toThrow(/read-only transaction/);
    } finally {
      await db.destroy();
    }
  });

  it("does not let a tenant's evidence land on another tenant's claim through the policy-checked path", async () => {
    // The claim lookup of the document.uploaded handler (bound to the message's tenant) finds no foreign claim.
    const found = await inTenant(suite.app, TENANT_A, () => suite.app.query('SELECT id FROM claims WHERE id = $1 FOR UPDATE', [claimOf[TENANT_B]]));
    expect(found.rows).toEqual([]);
  });
});
