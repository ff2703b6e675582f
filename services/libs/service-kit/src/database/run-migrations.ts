import { DataSource, type DataSourceOptions } from 'typeorm';
import type { Logger } from 'pino';
import { createLogger } from '../logging/logger';
import { TypeOrmPinoLogger } from '../database/typeorm-pino.logger';

/**
 * Key of the session-level advisory lock taken around migrations. Advisory locks are scoped to the database, and
 * each service has its own, so one constant key serialises the replicas and Jobs of one service only.
 */
export const MIGRATION_LOCK_KEY = 727_001_001;

export interface RunMigrationsResult {
  /** Names of the migrations this call applied (empty when another runner had already applied them). */
  applied: string[];
}

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so that concurrent runners (two replicas, a
 * Helm hook Job and `npm run up`) apply each migration once: the second waits, then finds nothing pending.
 * Each migration runs in its own transaction.
 */
export async function runMigrations(
  options: DataSourceOptions,
  runOptions: { logger?: Logger } = {},
): Promise<RunMigrationsResult> {
  const logger = runOptions.logger ?? createLogger({ service: 'migrate' });
  const dataSource = new DataSource({
    ...options,
    migrationsRun: false,
    synchronize: false,
    logger: new TypeOrmPinoLogger(logger),
    logging: ['error', 'warn', 'migration'],
  } as DataSourceOptions);
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    const [{ locked }] = (await lock.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY])) as [
      { locked: boolean },
    ];
    if (!locked) {
      logger.info('Another runner holds the migration lock; waiting for it');
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      logger.info({ applied: applied.map((migration) => migration.name) }, `Applied ${applied.length} migrations`);
      return { applied: applied.map((migration) => migration.name) };
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
    await dataSource.destroy();
  }
}
