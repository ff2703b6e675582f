import { createLogger, loadMigrationConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { SERVICE_NAME } from './config';
import { AUTH_DATABASE } from './database';

/**
 * `node dist/migrate.js`: applies pending migrations under the kit's advisory lock, then exits. It connects as the
 * database owner (MIGRATION_DATABASE_URL; DATABASE_URL in development and test when unset) and needs nothing else:
 * it must not fail for want of the broker's or Redis' URL.
 */
async function migrate(): Promise<void> {
  const config = loadMigrationConfig();
  const logger = createLogger({ service: `${SERVICE_NAME}-migrate`, level: config.LOG_LEVEL });
  try {
    await runMigrations(
      postgresDataSourceOptions({ ...AUTH_DATABASE, url: config.migrationUrl, applicationName: `${SERVICE_NAME}-migrate` }),
      { logger },
    );
  } catch (error) {
    logger.fatal({ err: error }, 'Migrations failed');
    throw error;
  }
}

migrate().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
