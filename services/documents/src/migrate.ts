import { baseConfigSchema, loadConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { DOCUMENTS_SERVICE_NAME } from './documents.constants';
import { DOCUMENTS_ENTITIES } from './entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from './migrations/documents-migrations';

/** `node dist/migrate.js`: applies pending migrations of the documents database (advisory-locked), then exits. */
async function main(): Promise<void> {
  const config = loadConfig(baseConfigSchema.pick({ DATABASE_URL: true, LOG_LEVEL: true }));
  await runMigrations(
    postgresDataSourceOptions({
      url: config.DATABASE_URL,
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
