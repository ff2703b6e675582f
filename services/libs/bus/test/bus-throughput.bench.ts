/**
 * End-to-end throughput of the bus on this machine: events written to the outbox in transactions → relay
 * (batch publish + confirms) → RabbitMQ → BusServer (inbox transaction + a handler that writes a row) → ack.
 *
 *   TSX_TSCONFIG_PATH=services/libs/bus/tsconfig.json node --import tsx services/libs/bus/test/bus-throughput.bench.ts [events=20000] [perTransaction=50]
 *   (the tsconfig enables the decorators of the Nest parts; add BENCH_TIMELINE=1 for per-second progress)
 *
 * Starts/uses the local infrastructure like the tests do, in a throwaway database and vhost.
 * Prints events/s measured from the first insert to the last handled row. Not a test: numbers on a shared
 * 2-core machine vary too much for an assertion.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Events } from '@rallyforge/contracts';
import { Registry } from 'prom-client';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { deleteVhost, dropDatabase, ensureDatabase, ensureInfra, ensureVhost } from '@rallyforge/tools/infra';
import { BusConnection, BusServer, OutboxPublisher, OutboxRelay, type BusContext } from '../src';
import { migratedDataSource } from './bus-harness';

class BenchTable1700000000003 implements MigrationInterface {
  readonly name = 'BenchTable1700000000003';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE handled (message_id uuid NOT NULL)');
  }
  async down(): Promise<void> {}
}

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 20_000);
  const perTransaction = Number(process.argv[3] ?? 50);
  const infra = await ensureInfra();
  process.env.RF_TEST_AMQP_URL ??= infra.amqpUrl;
  const name = `bench_bus_${randomBytes(3).toString('hex')}`;
  const dbUrl = await ensureDatabase(name, name, randomBytes(12).toString('hex'), infra.postgresAdminUrl);
  const amqpUrl = await ensureVhost(name);
  const dataSource = await migratedDataSource(dbUrl, [BenchTable1700000000003]);
  const registry = new Registry();
  const connection = new BusConnection({ url: amqpUrl, name: 'bench', registry });
  const server = new BusServer({ service: 'bench', connection, dataSource, registry, prefetch: 64, inboxBatchSize: Number(process.env.BENCH_INBOX_BATCH ?? 16) });
  server.addHandler(
    'claim.created',
    async (_data: unknown, ctx: BusContext) => {
      await ctx.manager.query('INSERT INTO handled (message_id) VALUES ($1)', [ctx.messageId]);
    },
    true,
  );
  await new Promise<void>((resolve, reject) => void server.listen((error?: unknown) => (error ? reject(error) : resolve())));
  const relay = new OutboxRelay({ dataSource, connection, service: 'bench', registry });
  relay.start();
  const outbox = new OutboxPublisher();

  const timeline: string[] = [];
  const progress = setInterval(() => {
    void dataSource
      .query(`SELECT (SELECT count(*) FROM bus_outbox)::int AS written, (SELECT count(*) FROM bus_outbox WHERE sent_at IS NOT NULL)::int AS sent, (SELECT count(*) FROM handled)::int AS handled`)
      .then(([row]: Array<Record<string, number>>) => timeline.push(`${((Date.now() - started) / 1000).toFixed(1)}s written=${row.written} sent=${row.sent} handled=${row.handled}`));
  }, 1000);
  const started = Date.now();
  try {
    const writers = 4;
    let written = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (written < events) {
          written += perTransaction;
          await dataSource.transaction((manager) =>
            outbox.publishAll(
              manager,
              Array.from({ length: perTransaction }, () => ({
                contract: Events.claimCreated,
                payload: { claimId: randomUUID(), ownerId: randomUUID(), title: 'Bench', type: 'disability', status: 'draft' },
                options: { tenantId: 'bench' },
              })),
            ),
          );
        }
      }),
    );
    const writtenAt = Date.now();
    const target = written;
    let handled = 0;
    const deadline = Date.now() + 300_000;
    while (handled < target && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      handled = (await dataSource.query('SELECT count(*)::int AS n FROM handled'))[0].n;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      JSON.stringify({
        events: target,
        handled,
        perTransaction,
        writeSeconds: (writtenAt - started) / 1000,
        totalSeconds: seconds,
        eventsPerSecond: Math.round(handled / seconds),
      }),
    );
  } finally {
    clearInterval(progress);
    if (process.env.BENCH_TIMELINE) console.log(timeline.join('\n'));
    await relay.stop();
    await server.close();
    await connection.close();
    await dataSource.destroy();
    await dropDatabase(name, name, infra.postgresAdminUrl);
    await deleteVhost(name);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
