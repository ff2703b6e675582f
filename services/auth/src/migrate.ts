import { createLogger, loadConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { authConfigSchema, SERVICE_NAME } from './config';
import { AUTH_DATABASE } from './database';

/** The migration Job needs only the database: it must not fail for want of the broker's or Redis' URL. */
const migrateConfigSchema = authConfigSchema.pick({ NODE_ENV: true, LOG_LEVEL: true, DATABASE_URL: true });

/** `node dist/migrate.js`: applies pending migrations under the kit's advisory lock, then exits. */
async function migrate(): Promise<void> {
  const config = loadConfig(migrateConfigSchema);
  const logger = createLogger({ service: `${SERVICE_NAME}-migrate`, level: config.LOG_LEVEL });
  try {
    await runMigrations(
      postgresDataSourceOptions({ ...AUTH_DATABASE, url: config.DATABASE_URL, applicationName: `${SERVICE_NAME}-migrate` }),
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
