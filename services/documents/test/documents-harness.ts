import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, loadConfig, postgresDataSourceOptions, runMigrations } from '@rallyforge/service-kit';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { DataSource } from 'typeorm';
import { documentsConfigSchema } from '../src/config';
import { startDocumentsService } from '../src/documents.app';
import { DOCUMENTS_ENTITIES } from '../src/entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from '../src/migrations/documents-migrations';
import { TokenIssuer } from '@rallyforge/tools/test/token-issuer';

/** A running documents service on a fresh database, vhost and storage directory, for one test file. */
export interface DocumentsHarness {
  app: NestFastifyApplication;
  issuer: TokenIssuer;
  amqpUrl: string;
  storageDir: string;
  /** A plain DataSource on the service's database as its owner (which bypasses RLS), for assertions on rows. */
  db: DataSource;
  close(): Promise<void>;
}

export async function startDocumentsHarness(label: string, env: Record<string, string> = {}): Promise<DocumentsHarness> {
  const database = await freshDatabase(label);
  const vhost = await freshVhost(label);
  const issuer = await TokenIssuer.start();
  const storageDir = await mkdtemp(join(tmpdir(), 'rf-documents-'));
  const options = postgresDataSourceOptions({ url: database.ownerUrl, entities: DOCUMENTS_ENTITIES, migrations: DOCUMENTS_MIGRATIONS });
  await runMigrations(options, { logger: createLogger({ service: 'documents-test', level: 'silent' }) });
  const config = loadConfig(documentsConfigSchema, {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.appUrl,
    AMQP_URL: vhost.url,
    REDIS_URL: process.env.RF_TEST_REDIS_URL,
    AUTH_JWKS_URL: issuer.jwksUrl,
    SHUTDOWN_TIMEOUT_MS: '2000',
    STORAGE_DRIVER: 'local',
    STORAGE_LOCAL_DIR: storageDir,
    ...env,
  });
  const app = await startDocumentsService(config, { handleSignals: false });
  const db = new DataSource(options);
  await db.initialize();
  return {
    app,
    issuer,
    amqpUrl: vhost.url,
    storageDir,
    db,
    close: async () => {
      await app.close();
      await db.destroy();
      await issuer.close();
      await vhost.drop();
      await database.drop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** A multipart/form-data body as a browser would send it. */
export async function multipartBody(fields: Array<[string, string] | [string, Buffer, string, string?]>): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  for (const field of fields) {
    if (typeof field[1] === 'string') form.append(field[0], field[1]);
    else form.append(field[0], new Blob([field[1]], { type: field[3] ?? 'application/octet-stream' }), field[2]);
  }
  const response = new Response(form);
  return { payload: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type')! };
}
