import { randomBytes, randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DataSource } from 'typeorm';
import { Registry } from 'prom-client';
import { Events } from '@rallyforge/contracts';
import { deleteVhost, dropDatabase, ensureDatabase, ensureVhost, postgresAdminUrl } from '../infra';

class BenchTable1700000000003 implements MigrationInterface {
  readonly name = 'BenchTable1700000000003';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE handled (message_id uuid NOT NULL)');
  }
  async down(): Promise<void> {}
}

export interface BusBench {
  events: number;
  eventsPerSecond: number;
  seconds: number;
}

/**
 * Events per second end to end: events written to the outbox in transactions (4 writers, 50 per transaction)
 * → relay (batch publish + confirms) → RabbitMQ → BusServer (inbox transaction + a handler that writes a row)
 * → ack. Timed from the first insert to the last handled row. Throwaway database and vhost.
 */
export async function benchBus(events: number): Promise<BusBench> {
  // Loaded lazily: the bus is built by the bench's first step.
  const { BusConnection, BusServer, BusTables1700000000000, OutboxPublisher, OutboxRelay } = await import('@rallyforge/bus');
  const name = `bench_bus_${randomBytes(3).toString('hex')}`;
  const admin = postgresAdminUrl();
  const dbUrl = await ensureDatabase(name, name, randomBytes(12).toString('hex'), admin);
  const amqpUrl = await ensureVhost(name);
  const dataSource = new DataSource({ type: 'postgres', url: dbUrl, migrations: [BusTables1700000000000, BenchTable1700000000003], poolSize: 20, logging: false });
  await dataSource.initialize();
  await dataSource.runMigrations();
  const registry = new Registry();
  const quiet = { log: () => undefined, error: () => undefined, warn: () => undefined };
  const connection = new BusConnection({ url: amqpUrl, name: 'bench', registry, logger: quiet });
  const server = new BusServer({ service: 'bench', connection, dataSource, registry, prefetch: 64, logger: quiet });
  server.addHandler('claim.created', async (_data: unknown, ctx: { manager: { query(q: string, p: unknown[]): Promise<unknown> }; messageId: string }) => {
    await ctx.manager.query('INSERT INTO handled (message_id) VALUES ($1)', [ctx.messageId]);
  }, true);
  await new Promise<void>((resolve, reject) => void server.listen((error?: unknown) => (error ? reject(error) : resolve())));
  const relay = new OutboxRelay({ dataSource, connection, service: 'bench', registry, logger: quiet });
  relay.start();
  const outbox = new OutboxPublisher();
  const started = Date.now();
  try {
    const perTransaction = 50;
    let written = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (written < events) {
          written += perTransaction;
          await dataSource.transaction((manager) =>
            outbox.publishAll(manager, Array.from({ length: perTransaction }, () => ({
              contract: Events.claimCreated,
              payload: { claimId: randomUUID(), ownerId: randomUUID(), title: 'Bench', type: 'other', status: 'submitted' },
              options: { tenantId: 'bench' },
            }))),
          );
        }
      }),
    );
    let handled = 0;
    const deadline = Date.now() + 300_000;
    while (handled < written && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      handled = (await dataSource.query('SELECT count(*)::int AS n FROM handled'))[0].n;
    }
    if (handled < written) throw new Error(`only ${handled} of ${written} events were handled within 5 minutes`);
    const seconds = (Date.now() - started) / 1000;
    return { events: handled, seconds, eventsPerSecond: handled / seconds };
  } finally {
    await relay.stop();
    await server.close();
    await connection.close();
    await dataSource.destroy();
    await dropDatabase(name, name, admin);
    await deleteVhost(name);
  }
}

/** The baseline: raw amqplib publishing the same number of messages with publisher confirms, in batches. */
export async function benchRawAmqp(events: number): Promise<BusBench> {
  const name = `bench_raw_${randomBytes(3).toString('hex')}`;
  const url = await ensureVhost(name);
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('raw', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const body = Buffer.from(JSON.stringify({ id: randomUUID(), type: 'claim.created', data: { title: 'Bench' } }));
    const started = Date.now();
    for (let sent = 0; sent < events; sent += 500) {
      for (let i = 0; i < 500 && sent + i < events; i++) ch.sendToQueue('raw', body, { persistent: true });
      await ch.waitForConfirms();
    }
    const seconds = (Date.now() - started) / 1000;
    return { events, seconds, eventsPerSecond: events / seconds };
  } finally {
    await conn.close();
    await deleteVhost(name);
  }
}
