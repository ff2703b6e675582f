import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Events } from '@rallyforge/contracts';
import type { ChannelModel } from 'amqplib';
import { Registry } from 'prom-client';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { delay, metricValue, migratedDataSource, rawConnection, startService, waitFor, type RunningService } from '../test/bus-harness';
import { BusConfigurationError } from './bus.errors';
import { BusConnection } from './bus-connection';
import { BusContext } from './bus-context';
import { createEnvelope, toOutgoingMessage } from './message-envelope';
import { OutboxPublisher } from './outbox/outbox-publisher';
import { OutboxRelay } from './outbox/outbox-relay';

class TestTables1700000000001 implements MigrationInterface {
  readonly name = 'TestTables1700000000001';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE claims (id uuid PRIMARY KEY, title text NOT NULL)`);
    await runner.query(`CREATE TABLE handled (message_id uuid NOT NULL, attempt int NOT NULL, tenant_id text NOT NULL)`);
  }
  async down(): Promise<void> {}
}

const outbox = new OutboxPublisher();
/** Per message id: how many more calls fail after writing. */
const failAfterWrite = new Map<string, number>();
const ledgerCalls: string[] = [];
const traceIds = new Map<string, string | undefined>();
const auditSeen: string[] = [];

@Controller()
class LedgerHandlers {
  /** Writes its data and a follow-up event in the inbox transaction. */
  @EventPattern('claim.created')
  async onClaimCreated(@Ctx() ctx: BusContext): Promise<void> {
    ledgerCalls.push(ctx.messageId);
    traceIds.set(ctx.messageId, trace.getSpanContext(context.active())?.traceId);
    await ctx.manager.query('INSERT INTO handled (message_id, attempt, tenant_id) VALUES ($1, $2, $3)', [ctx.messageId, ctx.attempt, ctx.tenantId]);
    const data = ctx.envelope.data as { claimId: string; ownerId: string };
    await outbox.publish(
      ctx.manager,
      Events.claimEvidenceAdded,
      { claimId: data.claimId, ownerId: data.ownerId, documentId: randomUUID(), filename: 'chained.pdf', evidenceCount: 1 },
      { tenantId: ctx.tenantId },
    );
    const left = failAfterWrite.get(ctx.messageId) ?? 0;
    if (left > 0) {
      failAfterWrite.set(ctx.messageId, left - 1);
      throw new Error('failed after writing');
    }
  }
}

@Controller()
class AuditHandlers {
  @EventPattern('claim.evidence_added')
  onEvidence(@Ctx() ctx: BusContext): void {
    auditSeen.push(ctx.messageId);
  }
}

const claim = (claimId = randomUUID()) => ({ claimId, ownerId: randomUUID(), title: 'Tinnitus', type: 'disability', status: 'draft' });

async function handledRows(dataSource: DataSource, messageId: string): Promise<Array<{ attempt: number; tenant_id: string }>> {
  return dataSource.query('SELECT attempt, tenant_id FROM handled WHERE message_id = $1', [messageId]);
}

describe('transactional outbox and idempotent inbox against PostgreSQL and RabbitMQ', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataSource: DataSource;
  let ledger: RunningService;
  let audit: RunningService;
  let relayConnection: BusConnection;
  let relay: OutboxRelay;
  let relayRegistry: Registry;
  let raw: ChannelModel;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    vhost = await freshVhost('bus-outbox');
    database = await freshDatabase('bus-outbox');
    dataSource = await migratedDataSource(database.url, [TestTables1700000000001]);
    ledger = await startService(vhost.url, { service: 'ledger', controllers: [LedgerHandlers], dataSource, retry: { delaysMs: [100, 200] } });
    audit = await startService(vhost.url, { service: 'audit', controllers: [AuditHandlers] });
    relayRegistry = new Registry();
    relayConnection = new BusConnection({ url: vhost.url, name: 'relay', registry: relayRegistry });
    // No polling and no LISTEN: only the in-process commit hook can wake this relay quickly.
    relay = new OutboxRelay({ dataSource, connection: relayConnection, service: 'ledger', pollIntervalMs: 60_000, listen: false, registry: relayRegistry });
    relay.start();
    raw = await rawConnection(vhost.url);
  });

  afterAll(async () => {
    await raw?.close().catch(() => undefined);
    await relay?.stop();
    await relayConnection?.close();
    await ledger?.close();
    await audit?.close();
    await dataSource?.destroy();
    await database?.drop();
    await vhost?.drop();
    propagation.disable();
    context.disable();
  });

  it('publishes an event written in a committed transaction, woken by the commit', async () => {
    const payload = claim();
    const started = Date.now();
    const envelope = await dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO claims (id, title) VALUES ($1, $2)', [payload.claimId, payload.title]);
      return outbox.publish(manager, Events.claimCreated, payload, { tenantId: 'acme' });
    });

    await waitFor('the ledger to handle the outbox event', async () => (await handledRows(dataSource, envelope.id)).length === 1);
    expect(Date.now() - started).toBeLessThan(5_000); // far below the 60 s poll interval
    const [row] = await dataSource.query('SELECT sent_at, attempts FROM bus_outbox WHERE id = $1', [envelope.id]);
    expect(row.sent_at).not.toBeNull();
    expect(await metricValue(relayRegistry, 'bus_messages_published_total', { type: 'claim.created' })).toBeGreaterThanOrEqual(1);
  });

  it('captures the trace context when the row is written, so the consumer joins the trace of the request', async () => {
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    const request = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '1111222233334444', traceFlags: TraceFlags.SAMPLED });
    const envelope = await context.with(request, () => dataSource.transaction((manager) => outbox.publish(manager, Events.claimCreated, claim(), { tenantId: 'acme' })));
    const [row] = await dataSource.query('SELECT headers FROM bus_outbox WHERE id = $1', [envelope.id]);
    expect(row.headers.traceparent).toBe(`00-${traceId}-1111222233334444-01`);
    await waitFor('the handler', () => traceIds.has(envelope.id));
    expect(traceIds.get(envelope.id)).toBe(traceId);
  });

  it('lets a handler write data and a follow-up outbox event atomically with the inbox row', async () => {
    const envelope = await dataSource.transaction((manager) => outbox.publish(manager, Events.claimCreated, claim(), { tenantId: 'acme' }));
    await waitFor('the handler row', async () => (await handledRows(dataSource, envelope.id)).length === 1);
    const [inbox] = await dataSource.query('SELECT consumer, type FROM bus_inbox WHERE message_id = $1', [envelope.id]);
    expect(inbox).toEqual({ consumer: 'ledger', type: 'claim.created' });
    // The follow-up event went through the relay to the audit service.
    const followUps: Array<{ id: string }> = await dataSource.query(`SELECT id FROM bus_outbox WHERE type = 'claim.evidence_added'`);
    await waitFor('the audit service to receive the follow-up events', () => followUps.every((f) => auditSeen.includes(f.id)));
  });

  it('publishes nothing when the transaction rolls back', async () => {
    const messageId = randomUUID();
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.publish(manager, Events.claimCreated, claim(), { tenantId: 'acme', messageId });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    relay.wakeUp();
    await delay(500);
    expect(await dataSource.query('SELECT id FROM bus_outbox WHERE id = $1', [messageId])).toHaveLength(0);
    expect(ledgerCalls).not.toContain(messageId);
  });

  it('refuses to write outside a transaction', async () => {
    await expect(outbox.publish(dataSource.manager, Events.claimCreated, claim(), { tenantId: 'acme' })).rejects.toThrow(BusConfigurationError);
  });

  it('handles a duplicate delivery once: the second copy is acked without calling the handler', async () => {
    const envelope = createEnvelope(Events.claimCreated, claim(), { tenantId: 'acme' });
    const message = toOutgoingMessage(envelope);
    const channel = await raw.createConfirmChannel();
    channel.publish(message.exchange, message.routingKey, message.content, message.options);
    channel.publish(message.exchange, message.routingKey, message.content, message.options);
    await channel.waitForConfirms();
    await channel.close();

    await waitFor('the duplicate to be counted', async () => (await metricValue(ledger.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'duplicate' })) >= 1);
    expect(ledgerCalls.filter((id) => id === envelope.id)).toHaveLength(1);
    expect(await handledRows(dataSource, envelope.id)).toHaveLength(1);
  });

  it('rolls back a failed handler with its inbox row, so the retry runs it again and its writes land once', async () => {
    const messageId = randomUUID();
    failAfterWrite.set(messageId, 1);
    await dataSource.transaction((manager) => outbox.publish(manager, Events.claimCreated, claim(), { tenantId: 'acme', messageId }));

    await waitFor('the retry to commit', async () => (await handledRows(dataSource, messageId)).length === 1);
    expect(ledgerCalls.filter((id) => id === messageId)).toHaveLength(2);
    expect(await handledRows(dataSource, messageId)).toEqual([{ attempt: 2, tenant_id: 'acme' }]);
  });

  it('wakes a relay in another process through NOTIFY, and concurrent relays publish every row exactly once', async () => {
    await relay.stop();
    // A consumer without inbox counts raw deliveries: a row published twice would show up twice here.
    const channel = await raw.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'rallyforge.events', 'document.uploaded');
    const delivered: string[] = [];
    await channel.consume(queue, (m) => m && delivered.push(String(m.properties.messageId)), { noAck: true });

    const other = await migratedDataSource(database.url); // another "replica": own pool, own relay, LISTEN on
    const otherConnection = new BusConnection({ url: vhost.url, name: 'relay-2', registry: new Registry() });
    const registries = [new Registry(), new Registry()];
    const relays = [
      new OutboxRelay({ dataSource: other, connection: otherConnection, pollIntervalMs: 60_000, batchSize: 100, registry: registries[0] }),
      new OutboxRelay({ dataSource, connection: relayConnection, pollIntervalMs: 60_000, batchSize: 100, listen: true, registry: registries[1] }),
    ];
    const document = () => ({ documentId: randomUUID(), claimId: randomUUID(), ownerId: randomUUID(), filename: 'f.pdf', contentType: 'application/pdf', sizeBytes: 1, sha256: 'x' });
    try {
      // Only the other replica's relay runs: nothing in this process is woken by the commit, only NOTIFY can.
      relays[0].start();
      await otherConnection.waitUntilConnected(10_000);
      await delay(300); // LISTEN established
      const first = await dataSource.transaction((manager) => outbox.publish(manager, Events.documentUploaded, document(), { tenantId: 'acme' }));
      await waitFor('the NOTIFY-woken relay to publish', () => delivered.includes(first.id), 5_000);

      relays[1].start();
      const total = 1500;
      for (let batch = 0; batch < total / 100; batch++) {
        await dataSource.transaction((manager) =>
          outbox.publishAll(manager, Array.from({ length: 100 }, () => ({ contract: Events.documentUploaded, payload: document(), options: { tenantId: 'acme' } }))),
        );
      }
      await waitFor(`${total} deliveries`, () => delivered.length >= total + 1, 30_000);
      await delay(300);
      expect(delivered).toHaveLength(total + 1);
      expect(new Set(delivered).size).toBe(total + 1);
      const published = await Promise.all(registries.map((r) => metricValue(r, 'bus_messages_published_total', { type: 'document.uploaded' })));
      expect(published[0] + published[1]).toBe(total + 1);
      const [pending] = await dataSource.query('SELECT count(*)::int AS count FROM bus_outbox WHERE sent_at IS NULL');
      expect(pending.count).toBe(0);
      expect(await relays[0].refreshPendingGauge()).toBe(0);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await otherConnection.close();
      await other.destroy();
      await channel.close().catch(() => undefined);
    }
  });
});
