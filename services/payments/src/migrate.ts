import { createLogger, loadMigrationConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { PAYMENTS_ENTITIES } from './entities/payments-entities';
import { PAYMENTS_MIGRATIONS } from './migrations/payments-migrations';
import { SERVICE_NAME } from './payments.constants';

/**
 * Applies pending migrations of the payments database under the kit's advisory lock, as the database owner
 * (MIGRATION_DATABASE_URL; DATABASE_URL in development and test when unset). The Job needs only the database: it
 * must not fail for want of the broker's URL or the provider.
 */
export async function migrate(env: Record<string, string | undefined> = process.env): Promise<string[]> {
  const config = loadMigrationConfig(env);
  const logger = createLogger({ service: `${SERVICE_NAME}-migrate`, level: config.LOG_LEVEL });
  try {
    const { applied } = await runMigrations(
      postgresDataSourceOptions({
        entities: PAYMENTS_ENTITIES,
        migrations: PAYMENTS_MIGRATIONS,
        url: config.migrationUrl,
        applicationName: `${SERVICE_NAME}-migrate`,
      }),
      { logger },
    );
    return applied;
  } catch (error) {
    logger.fatal({ err: error }, 'Migrations failed');
    throw error;
  }
}

// `node dist/migrate.js`: migrate, then exit (0 on success).
if (require.main === module) {
  migrate().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
