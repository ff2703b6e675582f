import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { Events } from '@rallyforge/contracts';
import type { ChannelModel } from 'amqplib';
import { freshVhost } from '@rallyforge/tools/test/infra';
import { metricValue, queueDepth, rawConnection, startService, waitFor, type RunningService } from '../test/bus-harness';
import { BusClient } from './bus-client';
import { BusContext } from './bus-context';
import { BUS_DELIVERY_LIMIT } from './bus.constants';
import { createEnvelope, toOutgoingMessage } from './message-envelope';
import { ParkedMessages } from './parked/parked-messages';
import { parkedQueueOptions, serviceQueueOptions } from './topology';

const run = promisify(execFile);
const REPO_ROOT = join(__dirname, '..', '..', '..', '..');

interface Call {
  readonly id: string;
  readonly attempt: number;
  readonly at: number;
}

/** Per message id: how many more calls fail. Missing = succeed. */
const failures = new Map<string, number>();
/** Message ids the handler refuses (status 403, as the permission guard's AppError): never worth a retry. */
const refusals = new Set<string>();
const calls: Call[] = [];

@Controller()
class FlakyHandlers {
  @EventPattern('claim.created')
  onClaimCreated(@Ctx() ctx: BusContext): void {
    calls.push({ id: ctx.messageId, attempt: ctx.attempt, at: Date.now() });
    if (refusals.has(ctx.messageId)) throw Object.assign(new Error('The actor may not do this'), { status: 403 });
    const left = failures.get(ctx.messageId) ?? 0;
    if (left > 0) {
      failures.set(ctx.messageId, left - 1);
      throw new Error(`ledger unavailable (${left} failures left)`);
    }
  }
}

const claim = {
  claimId: '0e0c5a5e-1111-4a4a-8b8b-000000000001',
  ownerId: '0e0c5a5e-1111-4a4a-8b8b-000000000002',
  title: 'Hearing loss',
  type: 'disability',
  status: 'draft',
};

const callsOf = (id: string): Call[] => calls.filter((c) => c.id === id);

describe('bus retries, parking and replay against RabbitMQ', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let service: RunningService;
  let client: BusClient;
  let raw: ChannelModel;

  beforeAll(async () => {
    vhost = await freshVhost('bus-retry');
    service = await startService(vhost.url, { service: 'ledger', controllers: [FlakyHandlers], retry: { delaysMs: [200, 600] } });
    client = new BusClient({ url: vhost.url, service: 'producer' });
    raw = await rawConnection(vhost.url);
  });

  afterAll(async () => {
    await raw?.close().catch(() => undefined);
    await client?.close();
    await service?.close();
    await vhost?.drop();
  });

  it('retries after each configured delay with attempt+1, then parks with the error', async () => {
    const messageId = randomUUID();
    failures.set(messageId, 99);
    const envelope = await client.publishEvent(Events.claimCreated, claim, { tenantId: 'acme', messageId });

    await waitFor('the message to be parked', async () => (await queueDepth(raw, 'rf.ledger.parked')) === 1);
    const tried = callsOf(envelope.id);
    expect(tried.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // Delays come from the per-delay queues' TTL: at least the configured delay between attempts.
    expect(tried[1].at - tried[0].at).toBeGreaterThanOrEqual(180);
    expect(tried[2].at - tried[1].at).toBeGreaterThanOrEqual(580);

    const [parked] = await ParkedMessages.using(raw).list('ledger');
    expect(parked).toMatchObject({ messageId: envelope.id, type: 'claim.created', tenantId: 'acme', attempts: 3, reason: 'failed', originalRoutingKey: 'claim.created' });
    expect(parked.error).toBe('Error: ledger unavailable (97 failures left)');
    expect(Date.parse(parked.parkedAt)).not.toBeNaN();
    expect(await metricValue(service.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'retry' })).toBe(2);
    expect(await metricValue(service.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'park' })).toBe(1);
    expect(await queueDepth(raw, 'rf.ledger')).toBe(0);
  });

  it('acks a message whose handler succeeds on a delayed retry, and parks nothing', async () => {
    const messageId = randomUUID();
    failures.set(messageId, 1);
    const envelope = await client.publishEvent(Events.claimCreated, claim, { tenantId: 'acme', messageId });
    await waitFor('the retry to succeed', () => callsOf(envelope.id).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(callsOf(envelope.id).map((c) => c.attempt)).toEqual([1, 2]);
    expect(await queueDepth(raw, 'rf.ledger.parked')).toBe(1); // only the one from the previous test
  });

  it('lets the broker park a poison message that keeps coming back (delivery limit)', async () => {
    // A consumer that dies on the message every time (here: nack with requeue) must not loop forever.
    const channel = await raw.createChannel();
    await channel.assertQueue('rf.poison', serviceQueueOptions('poison'));
    await channel.assertQueue('rf.poison.parked', parkedQueueOptions());
    const envelope = createEnvelope(Events.claimCreated, claim, { tenantId: 'acme' });
    const message = toOutgoingMessage(envelope);
    channel.sendToQueue('rf.poison', message.content, message.options);
    let deliveries = 0;
    await channel.consume('rf.poison', (m) => {
      if (!m) return;
      deliveries++;
      channel.nack(m, false, true);
    });
    const [parked] = await waitFor('the broker to park the poison message', async () => {
      const found = await ParkedMessages.using(raw).list('poison');
      return found.length === 1 ? found : undefined;
    });
    await channel.close();
    expect(deliveries).toBe(BUS_DELIVERY_LIMIT + 1);
    expect(parked).toMatchObject({ messageId: envelope.id, reason: 'broker:delivery_limit', error: 'Dead-lettered by RabbitMQ (delivery_limit)' });
  });

  it('lists parked messages with the CLI (npm run bus:parked)', async () => {
    const { stdout } = await run('bash', [join(REPO_ROOT, 'tools/bin/bus-parked'), 'list', 'ledger'], {
      env: { ...process.env, AMQP_URL: vhost.url },
      timeout: 30_000,
    });
    const [parked] = await ParkedMessages.using(raw).list('ledger');
    expect(stdout).toContain(`${parked.messageId}  claim.created  tenant=acme  attempts=3  reason=failed`);
    expect(stdout).toContain('error: Error: ledger unavailable');
    expect(await queueDepth(raw, 'rf.ledger.parked')).toBe(1);
  });

  it('replays one parked message by id with the CLI; the fixed handler then processes it once', async () => {
    const [parked] = await ParkedMessages.using(raw).list('ledger');
    failures.delete(parked.messageId);
    const before = callsOf(parked.messageId).length;

    const { stdout } = await run('bash', [join(REPO_ROOT, 'tools/bin/bus-parked'), 'replay', 'ledger', '--id', parked.messageId], {
      env: { ...process.env, AMQP_URL: vhost.url },
      timeout: 30_000,
    });
    expect(stdout).toContain(`Replayed 1 message(s) to rf.ledger`);

    await waitFor('the replayed message to be handled', () => callsOf(parked.messageId).length === before + 1);
    expect(callsOf(parked.messageId).at(-1)?.attempt).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(callsOf(parked.messageId)).toHaveLength(before + 1);
    expect(await queueDepth(raw, 'rf.ledger.parked')).toBe(0);
  });

  it('replays only the selected message and everything with --all', async () => {
    const first = { id: randomUUID() };
    const second = { id: randomUUID() };
    // Fail on every attempt (3 calls) so both end up parked.
    failures.set(first.id, 3);
    failures.set(second.id, 3);
    await client.publishEvent(Events.claimCreated, claim, { tenantId: 'acme', messageId: first.id });
    await client.publishEvent(Events.claimCreated, claim, { tenantId: 'beta-org', messageId: second.id });
    await waitFor('both messages to be parked', async () => (await queueDepth(raw, 'rf.ledger.parked')) === 2, 20_000);

    const parked = ParkedMessages.using(raw);
    expect(await parked.replay('ledger', { messageId: 'does-not-exist' })).toEqual([]);
    expect(await queueDepth(raw, 'rf.ledger.parked')).toBe(2);
    await expect(parked.replay('ledger', {})).rejects.toThrow(/messageId.*all: true/);

    const replayed = await parked.replay('ledger', { all: true });
    expect(replayed.sort()).toEqual([first.id, second.id].sort());
    await waitFor('both replayed messages to be handled', () => callsOf(first.id).length === 4 && callsOf(second.id).length === 4);
    expect(await queueDepth(raw, 'rf.ledger.parked')).toBe(0);
  });

  it('parks a refused message (a 4xx such as 403) at once, without retries', async () => {
    const messageId = randomUUID();
    refusals.add(messageId);
    await client.publishEvent(Events.claimCreated, claim, { tenantId: 'acme', messageId });
    await waitFor('the refused message to be parked', async () => (await queueDepth(raw, 'rf.ledger.parked')) === 1);
    await new Promise((resolve) => setTimeout(resolve, 700)); // past both retry delays: no second call comes
    expect(callsOf(messageId).map((c) => c.attempt)).toEqual([1]);
    const [parked] = await ParkedMessages.using(raw).list('ledger');
    expect(parked).toMatchObject({ messageId, reason: 'rejected', attempts: 1, error: 'Error: The actor may not do this' });
  });
});
