import { loadMigrationConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { DOCUMENTS_SERVICE_NAME } from './documents.constants';
import { DOCUMENTS_ENTITIES } from './entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from './migrations/documents-migrations';

/**
 * `node dist/migrate.js`: applies pending migrations of the documents database (advisory-locked), then exits.
 * Connects as the database owner: MIGRATION_DATABASE_URL (DATABASE_URL in development and test when unset).
 */
async function main(): Promise<void> {
  const config = loadMigrationConfig();
  await runMigrations(
    postgresDataSourceOptions({
      url: config.migrationUrl,
      entities: DOCUMENTS_ENTITIES,
      migrations: DOCUMENTS_MIGRATIONS,
      applicationName: `${DOCUMENTS_SERVICE_NAME}-migrate`,
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'Migrations failed', err: String(error) })}\n`);
  process.exit(1);
});
