import { loadMigrationConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { CLAIMS_SERVICE_NAME } from './claims.constants';
import { CLAIMS_ENTITIES } from './entities/claims-entities';
import { CLAIMS_MIGRATIONS } from './migrations/claims-migrations';

/**
 * `node dist/migrate.js`: applies pending migrations of the claims database (advisory-locked), then exits. Connects
 * as the database owner: MIGRATION_DATABASE_URL (DATABASE_URL in development and test when unset).
 */
async function main(): Promise<void> {
  const config = loadMigrationConfig();
  await runMigrations(
    postgresDataSourceOptions({
      url: config.migrationUrl,
      entities: CLAIMS_ENTITIES,
      migrations: CLAIMS_MIGRATIONS,
      applicationName: `${CLAIMS_SERVICE_NAME}-migrate`,
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'Migrations failed', err: String(error) })}\n`);
  process.exit(1);
});
