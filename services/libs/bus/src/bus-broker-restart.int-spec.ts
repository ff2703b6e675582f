import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { Events } from '@rallyforge/contracts';
import { Registry } from 'prom-client';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { delay, migratedDataSource, restartBrokerInBackground, startService, waitFor, type RunningService } from '../test/bus-harness';
import { BusConnection, type BusConnectionState } from './bus-connection';
import { BusContext } from './bus-context';
import { OutboxPublisher } from './outbox/outbox-publisher';
import { OutboxRelay } from './outbox/outbox-relay';

jest.setTimeout(240_000);

class HandledTable1700000000002 implements MigrationInterface {
  readonly name = 'HandledTable1700000000002';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE handled (message_id uuid NOT NULL, handled_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }
  async down(): Promise<void> {}
}

@Controller()
class LedgerHandlers {
  @EventPattern('claim.created')
  async onClaimCreated(@Ctx() ctx: BusContext): Promise<void> {
    await ctx.manager.query('INSERT INTO handled (message_id) VALUES ($1)', [ctx.messageId]);
  }
}

describe('bus across a RabbitMQ restart', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataSource: DataSource;
  let ledger: RunningService;
  let relayConnection: BusConnection;
  let relay: OutboxRelay;

  beforeAll(async () => {
    vhost = await freshVhost('bus-restart');
    database = await freshDatabase('bus-restart');
    dataSource = await migratedDataSource(database.url, [HandledTable1700000000002]);
    ledger = await startService(vhost.url, { service: 'ledger', controllers: [LedgerHandlers], dataSource, retry: { delaysMs: [200, 500, 1000] } });
    relayConnection = new BusConnection({ url: vhost.url, name: 'relay', registry: new Registry(), reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    relay = new OutboxRelay({ dataSource, connection: relayConnection, service: 'ledger', pollIntervalMs: 200, batchSize: 100, registry: new Registry() });
    relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await relayConnection?.close();
    await ledger?.close();
    await dataSource?.destroy();
    await database?.drop();
    await vhost?.drop();
  });

  it('loses nothing and handles every event once when the broker restarts mid-stream', async () => {
    const states: Record<string, BusConnectionState[]> = { ledger: [], relay: [] };
    ledger.connection.on('state', (state) => states.ledger.push(state));
    relayConnection.on('state', (state) => states.relay.push(state));

    const outbox = new OutboxPublisher();
    const perTransaction = 20;
    let total = 0;
    let writtenWhileDown = 0;
    let producing = true;
    // Writes a transaction of events every 50 ms, before, during and after the outage.
    const producer = (async () => {
      while (producing) {
        await dataSource.transaction((manager) =>
          outbox.publishAll(
            manager,
            Array.from({ length: perTransaction }, () => ({
              contract: Events.claimCreated,
              payload: { claimId: randomUUID(), ownerId: randomUUID(), title: 'Back pain', type: 'disability', status: 'draft' },
              options: { tenantId: 'acme' },
            })),
          ),
        );
        total += perTransaction;
        if (!relayConnection.isHealthy()) writtenWhileDown += perTransaction;
        await delay(50);
      }
    })();

    await waitFor('events to flow before the restart', async () => (await dataSource.query('SELECT count(*)::int AS n FROM handled'))[0].n >= 100);
    await restartBrokerInBackground();
    await waitFor('events to flow again after the restart', () => ledger.connection.isHealthy() && relayConnection.isHealthy(), 60_000);
    await delay(1_000);
    producing = false;
    await producer;
    expect(writtenWhileDown).toBeGreaterThan(0);

    await waitFor(
      `all ${total} events to be handled`,
      async () => (await dataSource.query('SELECT count(DISTINCT message_id)::int AS n FROM handled'))[0].n === total,
      120_000,
      250,
    );
    await delay(1_000); // redeliveries of messages whose ack was lost would land now
    const [{ rows, distinct }] = await dataSource.query('SELECT count(*)::int AS rows, count(DISTINCT message_id)::int AS distinct FROM handled');
    expect(distinct).toBe(total);
    expect(rows).toBe(total); // a redelivered message never ran its handler twice
    const [{ pending }] = await dataSource.query('SELECT count(*)::int AS pending FROM bus_outbox WHERE sent_at IS NULL');
    expect(pending).toBe(0);
    const [{ unexpected }] = await dataSource.query(
      'SELECT count(*)::int AS unexpected FROM handled h WHERE NOT EXISTS (SELECT 1 FROM bus_outbox o WHERE o.id = h.message_id)',
    );
    expect(unexpected).toBe(0);

    // Both connections noticed the outage and came back.
    for (const name of ['ledger', 'relay']) {
      expect(states[name]).toContain('disconnected');
      expect(states[name].at(-1)).toBe('connected');
    }
    expect(ledger.connection.isHealthy()).toBe(true);
  });
});
