import { z } from 'zod';
import { baseConfigSchema } from '../config/base-config.schema';
import { envUrl } from '../config/env';
import { ConfigError, loadConfig } from '../config/load-config';

/** Environments in which `node dist/migrate.js` may fall back to DATABASE_URL when MIGRATION_DATABASE_URL is unset. */
export const MIGRATION_URL_FALLBACK_ENVIRONMENTS: readonly string[] = ['development', 'test'];

/**
 * What `node dist/migrate.js` reads. Migrations run as the database's owner role (MIGRATION_DATABASE_URL); the
 * service itself connects as the runtime role (DATABASE_URL), which owns nothing and cannot create tables
 * (docs/adr/0005-row-level-security.md). Nothing else is needed: the Job must not fail for want of the broker.
 */
export const migrationConfigSchema = baseConfigSchema.pick({ NODE_ENV: true, LOG_LEVEL: true }).extend({
  MIGRATION_DATABASE_URL: envUrl(['postgres:', 'postgresql:'], "a postgres:// URL of the database owner role").optional(),
  DATABASE_URL: envUrl(['postgres:', 'postgresql:'], 'a postgres:// URL').optional(),
});

export type MigrationConfig = z.infer<typeof migrationConfigSchema> & {
  /** The URL migrations connect with. */
  migrationUrl: string;
};

/**
 * Loads the migration runner's configuration. MIGRATION_DATABASE_URL is required in production; in development
 * and test, when it is unset, DATABASE_URL is used (a single-role local database). Throws the kit's ConfigError.
 */
export function loadMigrationConfig(env: Record<string, string | undefined> = process.env): MigrationConfig {
  const config = loadConfig(migrationConfigSchema, env);
  const fallback = MIGRATION_URL_FALLBACK_ENVIRONMENTS.includes(config.NODE_ENV) ? config.DATABASE_URL : undefined;
  const migrationUrl = config.MIGRATION_DATABASE_URL ?? fallback;
  if (!migrationUrl) {
    throw new ConfigError([
      {
        variable: 'MIGRATION_DATABASE_URL',
        message:
          `MIGRATION_DATABASE_URL: expected a postgres:// URL of the database owner role (migrations create and alter ` +
          `tables; the runtime role of DATABASE_URL cannot), got nothing` +
          (MIGRATION_URL_FALLBACK_ENVIRONMENTS.includes(config.NODE_ENV)
            ? ' (and no DATABASE_URL to fall back to)'
            : ` (NODE_ENV is ${config.NODE_ENV}: only ${MIGRATION_URL_FALLBACK_ENVIRONMENTS.join(' and ')} fall back to DATABASE_URL)`),
      },
    ]);
  }
  return { ...config, migrationUrl };
}
