import { randomUUID } from 'node:crypto';
import { createLogger, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { describeTenantIsolation } from '@rallyforge/tools/test/row-level-security';
import { DOCUMENTS_ENTITIES } from './entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from './migrations/documents-migrations';

describe('documents database: Row-Level Security as the runtime role', () => {
  describeTenantIsolation({
    label: 'documents_rls',
    migrate: async (url) => {
      await runMigrations(postgresDataSourceOptions({ url, entities: DOCUMENTS_ENTITIES, migrations: DOCUMENTS_MIGRATIONS }), {
        logger: createLogger({ service: 'documents-test', level: 'silent' }),
      });
    },
    tables: [
      {
        table: 'documents',
        insert: async (client, tenantId) => {
          await client.query(
            `INSERT INTO documents (id, tenant_id, owner_id, claim_id, filename, content_type, size_bytes, sha256, storage_key)
             VALUES ($1, $2, $3, $4, 'dd214.pdf', 'application/pdf', 10, $5, $6)`,
            [randomUUID(), tenantId, randomUUID(), randomUUID(), 'f'.repeat(64), `${tenantId}/${randomUUID()}`],
          );
        },
      },
    ],
  });
});
