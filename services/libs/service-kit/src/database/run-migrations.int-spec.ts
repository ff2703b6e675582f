import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { freshDatabase } from '@rallyforge/tools/test/infra';
import { LogCapture } from '../../test/log-capture';
import { baseConfigSchema } from '../config/base-config.schema';
import { loadConfig } from '../config/load-config';
import { bootstrapService } from '../http/bootstrap-service';
import { createLogger } from '../logging/logger';
import { ServiceKitModule } from '../service-kit.module';
import { Module } from '@nestjs/common';
import { postgresDataSourceOptions } from './data-source-options';
import { runMigrations } from './run-migrations';

/** Not idempotent on purpose: applied twice, it fails. Slow on purpose: concurrent runners overlap. */
class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query('CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE widgets');
  }
}

describe('runMigrations', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;

  beforeEach(async () => {
    database = await freshDatabase('migrations');
  });

  afterEach(async () => {
    await database.drop();
  });

  const options = () =>
    postgresDataSourceOptions({ url: database.url, entities: [], migrations: [CreateWidgets1700000000000] });
  const logger = createLogger({ service: 'migrate', level: 'silent' });

  it('applies each migration once when several runners race (advisory lock)', async () => {
    const results = await Promise.all([1, 2, 3].map(() => runMigrations(options(), { logger })));
    expect(results.flatMap((result) => result.applied)).toEqual(['CreateWidgets1700000000000']);

    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('SELECT name FROM migrations');
      expect(rows.map((row) => row.name)).toEqual(['CreateWidgets1700000000000']);
      await client.query("INSERT INTO widgets (name) VALUES ('ok')");
      const locks = await client.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
      expect(locks.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('is a no-op when nothing is pending', async () => {
    await runMigrations(options(), { logger });
    expect((await runMigrations(options(), { logger })).applied).toEqual([]);
  });

  it('keeps /health/startup failing until pending migrations are applied', async () => {
    @Module({
      imports: [
        ServiceKitModule.forRoot({
          name: 'widgets',
          database: { entities: [], migrations: [CreateWidgets1700000000000] },
        }),
      ],
    })
    class WidgetsModule {}
    const config = loadConfig(baseConfigSchema.omit({ REDIS_URL: true, AMQP_URL: true }), {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks.json',
    });
    const logs = new LogCapture();
    const app = await bootstrapService({
      name: 'widgets',
      module: WidgetsModule,
      config,
      handleSignals: false,
      logger: { destination: logs },
    });
    try {
      const url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/health/startup`;
      const pending = await fetch(url);
      expect(pending.status).toBe(503);
      expect(await pending.json()).toMatchObject({ error: { migrations: { status: 'down', message: 'Pending migrations' } } });
      expect(logs.find((line) => String(line.msg).startsWith('Pending migrations')).length).toBeGreaterThan(0);

      await runMigrations(options(), { logger });
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
