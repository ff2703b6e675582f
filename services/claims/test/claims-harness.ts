import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { createLogger } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { startClaimsService } from '../src/claims.app';
import { claimsConfigSchema } from '../src/config';
import { CLAIMS_ENTITIES } from '../src/entities/claims-entities';
import { CLAIMS_MIGRATIONS } from '../src/migrations/claims-migrations';
import { TokenIssuer } from '@rallyforge/tools/test/token-issuer';

/** A running claims service on a fresh database and vhost, with a token issuer, for one test file. */
export interface ClaimsHarness {
  app: NestFastifyApplication;
  issuer: TokenIssuer;
  amqpUrl: string;
  /** A plain DataSource on the service's database as its owner (which bypasses RLS), for assertions on rows. */
  db: DataSource;
  close(): Promise<void>;
}

export async function startClaimsHarness(label: string, env: Record<string, string> = {}): Promise<ClaimsHarness> {
  const database = await freshDatabase(label);
  const vhost = await freshVhost(label);
  const issuer = await TokenIssuer.start();
  const options = postgresDataSourceOptions({ url: database.ownerUrl, entities: CLAIMS_ENTITIES, migrations: CLAIMS_MIGRATIONS });
  await runMigrations(options, { logger: createLogger({ service: 'claims-test', level: 'silent' }) });
  const config = loadConfig(claimsConfigSchema, {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.appUrl,
    AMQP_URL: vhost.url,
    REDIS_URL: process.env.RF_TEST_REDIS_URL,
    AUTH_JWKS_URL: issuer.jwksUrl,
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const app = await startClaimsService(config, { handleSignals: false });
  const db = new DataSource(options);
  await db.initialize();
  return {
    app,
    issuer,
    amqpUrl: vhost.url,
    db,
    close: async () => {
      await app.close();
      await db.destroy();
      await issuer.close();
      await vhost.drop();
      await database.drop();
    },
  };
}
