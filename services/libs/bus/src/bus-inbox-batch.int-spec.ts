import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Events, type Envelope } from '@rallyforge/contracts';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import type { ChannelModel } from 'amqplib';
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { metricValue, migratedDataSource, rawConnection, startService, waitFor, type RunningService } from '../test/bus-harness';
import { BusContext } from './bus-context';
import { createEnvelope, toOutgoingMessage } from './message-envelope';
import { assertServiceTopology } from './topology';

class HandledTable1700000000004 implements MigrationInterface {
  readonly name = 'HandledTable1700000000004';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE handled (message_id uuid NOT NULL, attempt int NOT NULL)');
  }
  async down(): Promise<void> {}
}

interface Call {
  readonly id: string;
  readonly attempt: number;
  readonly manager: EntityManager;
  readonly traceId?: string;
}

const calls: Call[] = [];
const failOnce = new Set<string>();

@Controller()
class BatchHandlers {
  @EventPattern('claim.created')
  async onClaimCreated(@Ctx() ctx: BusContext): Promise<void> {
    calls.push({ id: ctx.messageId, attempt: ctx.attempt, manager: ctx.manager, traceId: trace.getSpanContext(context.active())?.traceId });
    await ctx.manager.query('INSERT INTO handled (message_id, attempt) VALUES ($1, $2)', [ctx.messageId, ctx.attempt]);
    if (failOnce.delete(ctx.messageId)) throw new Error('transient failure');
  }
}

const traceIdOf = (i: number) => i.toString(16).padStart(32, 'a');

/** Queues `count` claim.created messages (each with its own trace) before any consumer runs, so they arrive together. */
async function preload(raw: ChannelModel, count: number, extra: (envelope: Envelope, i: number) => void = () => undefined): Promise<Envelope[]> {
  const channel = await raw.createConfirmChannel();
  await assertServiceTopology(channel, { service: 'batched', patterns: ['claim.created'], retryDelaysMs: [100] });
  const envelopes: Envelope[] = [];
  for (let i = 0; i < count; i++) {
    const envelope = createEnvelope(Events.claimCreated, { claimId: randomUUID(), ownerId: randomUUID(), title: 'T', type: 'd', status: 's' }, { tenantId: 'acme' });
    const message = toOutgoingMessage(envelope, { trace: { traceparent: `00-${traceIdOf(i + 1)}-00f067aa0ba902b7-01` } });
    channel.publish(message.exchange, message.routingKey, message.content, message.options);
    extra(envelope, i);
    envelopes.push(envelope);
  }
  await channel.waitForConfirms();
  await channel.close();
  return envelopes;
}

describe('inbox batches against PostgreSQL and RabbitMQ', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataSource: DataSource;
  let raw: ChannelModel;
  let service: RunningService | undefined;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    vhost = await freshVhost('bus-batch');
    database = await freshDatabase('bus-batch');
    dataSource = await migratedDataSource(database.url, [HandledTable1700000000004]);
    raw = await rawConnection(vhost.url);
  });

  afterEach(async () => {
    await service?.close();
    service = undefined;
    calls.length = 0;
  });

  afterAll(async () => {
    await raw?.close().catch(() => undefined);
    await dataSource?.destroy();
    await database?.drop();
    await vhost?.drop();
    propagation.disable();
    context.disable();
  });

  const rowsOf = async (ids: string[]): Promise<Array<{ message_id: string; attempt: number }>> =>
    dataSource.query('SELECT message_id, attempt FROM handled WHERE message_id = ANY($1::uuid[]) ORDER BY message_id', [ids]);

  it('handles messages delivered together in shared transactions, each once, each in its own trace', async () => {
    const envelopes = await preload(raw, 48);
    service = await startService(vhost.url, { service: 'batched', controllers: [BatchHandlers], dataSource, prefetch: 64, inboxBatchSize: 16 });
    const ids = envelopes.map((e) => e.id);
    await waitFor('all 48 messages', async () => (await rowsOf(ids)).length === 48);

    expect(new Set(calls.map((c) => c.id)).size).toBe(48);
    expect(calls).toHaveLength(48);
    // Shared transactions: far fewer managers than messages, none used for more than 16.
    const perManager = new Map<EntityManager, number>();
    for (const call of calls) perManager.set(call.manager, (perManager.get(call.manager) ?? 0) + 1);
    expect(perManager.size).toBeLessThan(48);
    expect(Math.max(...perManager.values())).toBeLessThanOrEqual(16);
    // Every handler ran in the trace of its own message.
    envelopes.forEach((envelope, i) => expect(calls.find((c) => c.id === envelope.id)?.traceId).toBe(traceIdOf(i + 1)));
    const [{ inbox }] = await dataSource.query(`SELECT count(*)::int AS inbox FROM bus_inbox WHERE consumer = 'batched'`);
    expect(inbox).toBe(48);
  });

  it('isolates a failing message: it is retried on its own, the others of its batch commit once', async () => {
    const envelopes = await preload(raw, 20, (envelope, i) => i === 7 && failOnce.add(envelope.id));
    service = await startService(vhost.url, { service: 'batched', controllers: [BatchHandlers], dataSource, prefetch: 64, inboxBatchSize: 16 });
    const ids = envelopes.map((e) => e.id);
    await waitFor('all 20 messages', async () => (await rowsOf(ids)).length === 20);

    const rows = await rowsOf(ids);
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(20); // each write landed exactly once
    expect(rows.find((r) => r.message_id === envelopes[7].id)?.attempt).toBe(2); // went through the delayed retry
    expect(rows.filter((r) => r.message_id !== envelopes[7].id).every((r) => r.attempt === 1)).toBe(true);
    expect(await metricValue(service.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'retry' })).toBe(1);
  });

  it('treats two copies of a message delivered together as one message and one duplicate', async () => {
    const envelopes = await preload(raw, 6, (envelope, i) => {
      if (i === 2) {
        // A second copy right behind the first (a redelivery racing the original).
        const copy = toOutgoingMessage(envelope);
        void raw.createConfirmChannel().then(async (channel) => {
          channel.publish(copy.exchange, copy.routingKey, copy.content, copy.options);
          await channel.waitForConfirms();
          await channel.close();
        });
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    service = await startService(vhost.url, { service: 'batched', controllers: [BatchHandlers], dataSource, prefetch: 64, inboxBatchSize: 16 });
    const ids = envelopes.map((e) => e.id);
    await waitFor('the duplicate to be counted', async () => (await metricValue(service!.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'duplicate' })) === 1);
    await waitFor('the six messages', async () => (await rowsOf(ids)).length === 6);
    expect(calls.filter((c) => c.id === envelopes[2].id)).toHaveLength(1);
    expect(await rowsOf([envelopes[2].id])).toHaveLength(1);
  });
});
