import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { Events } from '@rallyforge/contracts';
import type { ChannelModel } from 'amqplib';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { delay, metricValue, migratedDataSource, queueDepth, rawConnection, startService, waitFor } from '../test/bus-harness';
import { BusConfigurationError, BusNotConnectedError } from './bus.errors';
import { BusClient } from './bus-client';
import { BusConnection, type BusConnectionState } from './bus-connection';
import { BusContext } from './bus-context';
import { BusServer } from './bus-server';
import { BUS_MODULE_OPTIONS, BusModule, createBusServer } from './nest/bus.module';
import { OutboxPublisher } from './outbox/outbox-publisher';
import { OutboxRelay } from './outbox/outbox-relay';

/** Handlers wait for `release` of their message id; `started` records who is running. */
const gates = new Map<string, () => void>();
const started: string[] = [];
const finished: string[] = [];

@Controller()
class SlowHandlers {
  @EventPattern('claim.created')
  async onClaimCreated(@Ctx() ctx: BusContext): Promise<void> {
    started.push(ctx.messageId);
    await new Promise<void>((resolve) => gates.set(ctx.messageId, resolve));
    finished.push(ctx.messageId);
  }
}

const claim = () => ({ claimId: randomUUID(), ownerId: randomUUID(), title: 'Knee', type: 'disability', status: 'draft' });

describe('bus lifecycle against RabbitMQ', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let client: BusClient;
  let raw: ChannelModel;

  beforeAll(async () => {
    vhost = await freshVhost('bus-lifecycle');
    client = new BusClient({ url: vhost.url, service: 'producer' });
    raw = await rawConnection(vhost.url);
  });

  afterAll(async () => {
    for (const release of gates.values()) release();
    await raw?.close().catch(() => undefined);
    await client?.close();
    await vhost?.drop();
  });

  it('close() stops consuming, waits for the handler in flight and acks it', async () => {
    const service = await startService(vhost.url, { service: 'slow', controllers: [SlowHandlers] });
    const envelope = await client.publishEvent(Events.claimCreated, claim(), { tenantId: 'acme' });
    await waitFor('the handler to start', () => gates.has(envelope.id));

    let closed = false;
    const closing = service.close().then(() => (closed = true));
    await delay(300);
    expect(closed).toBe(false); // still waiting for the handler
    gates.get(envelope.id)?.();
    await closing;
    expect(finished).toContain(envelope.id);
    expect(service.connection.state).toBe('closed');
    // Acked before the channel closed: nothing left for the next consumer.
    expect(await queueDepth(raw, 'rf.slow')).toBe(0);
  });

  it('close() waits at most closeTimeoutMs; the unfinished message is redelivered to the next consumer', async () => {
    const service = await startService(vhost.url, { service: 'slow', controllers: [SlowHandlers], closeTimeoutMs: 300 });
    const envelope = await client.publishEvent(Events.claimCreated, claim(), { tenantId: 'acme' });
    await waitFor('the handler to start', () => gates.has(envelope.id));
    const release = gates.get(envelope.id);

    const before = Date.now();
    await service.close();
    expect(Date.now() - before).toBeLessThan(3_000);
    expect(finished).not.toContain(envelope.id);

    const next = await startService(vhost.url, { service: 'slow', controllers: [SlowHandlers] });
    try {
      await waitFor('the redelivery', () => started.filter((id) => id === envelope.id).length === 2);
      release?.();
      gates.get(envelope.id)?.();
      await waitFor('the redelivered message to finish', () => finished.includes(envelope.id));
    } finally {
      await next.close();
    }
  });

  it('fails to start, with the fix in the message, when the service queue exists with other arguments', async () => {
    const channel = await raw.createChannel();
    await channel.assertQueue('rf.legacy', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.close();
    const registry = new Registry();
    const server = new BusServer({ service: 'legacy', url: vhost.url, registry });
    server.addHandler('claim.created', async () => undefined, true);
    const error = await new Promise<unknown>((resolve) => void server.listen((e?: unknown) => resolve(e)));
    await server.close();
    expect(error).toBeInstanceOf(BusConfigurationError);
    expect((error as Error).message).toMatch(/^Queue rf\.legacy already exists with different arguments .*delete_queue rf\.legacy/);
  });

  it('refuses handler patterns that cannot be bound (Nest object patterns)', async () => {
    const server = new BusServer({ service: 'objects', url: vhost.url, registry: new Registry() });
    server.addHandler({ cmd: 'sum' }, async () => 0, false);
    const error = await new Promise<unknown>((resolve) => void server.listen((e?: unknown) => resolve(e)));
    await server.close();
    expect(error).toBeInstanceOf(BusConfigurationError);
    expect((error as Error).message).toMatch(/cannot be bound on the bus: use a message type or topic pattern string/);
  });

  it('keeps retrying an unreachable broker with backoff and reports it as unhealthy', async () => {
    const states: BusConnectionState[] = [];
    const registry = new Registry();
    const connection = new BusConnection({ url: 'amqp://127.0.0.1:1', name: 'nowhere', registry, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    connection.on('state', (state) => states.push(state));
    connection.start();
    await expect(connection.waitUntilConnected(700)).rejects.toThrow(BusNotConnectedError);
    await expect(connection.waitUntilConnected(10)).rejects.toThrow(/not connected to RabbitMQ after waiting 10 ms/);
    expect(states.filter((s) => s === 'connecting').length).toBeGreaterThanOrEqual(3);
    expect(connection.isHealthy()).toBe(false);
    expect(await metricValue(registry, 'bus_connection_up', { connection: 'nowhere' })).toBe(0);
    await connection.close();
    expect(connection.state).toBe('closed');
    await expect(connection.waitUntilConnected(10)).rejects.toThrow(/is closed/);
  });

  it('a direct publish fails with an actionable error when the broker stays unreachable', async () => {
    const lonely = new BusClient({ url: 'amqp://127.0.0.1:1', service: 'lonely', publishTimeoutMs: 300, registry: new Registry() });
    try {
      await expect(lonely.publishEvent(Events.claimCreated, claim(), { tenantId: 'acme' })).rejects.toThrow(/events that must not be lost belong in the outbox/);
    } finally {
      await lonely.close();
    }
  });
});

const moduleSeen: string[] = [];

describe('BusModule wiring', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    vhost = await freshVhost('bus-module');
    database = await freshDatabase('bus-module');
    dataSource = await migratedDataSource(database.url);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
    await vhost?.drop();
  });

  it('shares one connection between client, relay and server, relays the outbox, and shuts down in order', async () => {
    const registry = new Registry();
    const app = await NestFactory.createApplicationContext(BusModule.forRoot({ service: 'modular', url: vhost.url, dataSource, registry }), { logger: false });
    await app.init();
    const connection = app.get(BusConnection);
    const relay = app.get(OutboxRelay);
    expect(relay.running).toBe(true);
    expect(app.get(BUS_MODULE_OPTIONS)).toMatchObject({ service: 'modular' });

    const server = createBusServer(app, { prefetch: 4 });
    expect(server.connection).toBe(connection);
    expect(app.get(BusClient).connection).toBe(connection);
    server.addHandler('claim.created', async (_data: unknown, ctx: BusContext) => void moduleSeen.push(`${ctx.messageId}:${ctx.transactional}`), true);
    await new Promise<void>((resolve, reject) => void server.listen((error?: unknown) => (error ? reject(error) : resolve())));

    const envelope = await dataSource.transaction((manager) => app.get(OutboxPublisher).publish(manager, Events.claimCreated, claim(), { tenantId: 'acme' }));
    // Handled through the module's relay and the server's inbox transaction (the DataSource came from the module).
    await waitFor('the module-wired consumer', () => moduleSeen.includes(`${envelope.id}:true`));
    expect(connection.isHealthy()).toBe(true);

    await server.close();
    expect(connection.state).toBe('connected'); // shared: the server does not close it
    await app.close();
    expect(relay.running).toBe(false);
    expect(connection.state).toBe('closed');
  });
});
