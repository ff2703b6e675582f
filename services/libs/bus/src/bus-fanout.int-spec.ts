import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BusHeaders, Events, type Envelope } from '@rallyforge/contracts';
import type { ChannelModel } from 'amqplib';
import { freshVhost } from '@rallyforge/tools/test/infra';
import { metricValue, queueDepth, rawConnection, startService, waitFor, type RunningService } from '../test/bus-harness';
import { BusClient } from './bus-client';
import { BusContext } from './bus-context';
import { createEnvelope, toOutgoingMessage } from './message-envelope';
import { ParkedMessages } from './parked/parked-messages';

interface Seen {
  readonly envelope: Envelope;
  readonly data: unknown;
  readonly tenantId: string;
  readonly pattern: string;
  readonly traceId?: string;
}

const seen: Record<'alpha' | 'beta', Seen[]> = { alpha: [], beta: [] };

function record(service: 'alpha' | 'beta', data: unknown, ctx: BusContext): void {
  seen[service].push({ envelope: ctx.envelope, data, tenantId: ctx.tenantId, pattern: ctx.pattern, traceId: trace.getSpanContext(context.active())?.traceId });
}

@Controller()
class AlphaHandlers {
  @EventPattern('claim.*')
  onClaim(@Payload() data: unknown, @Ctx() ctx: BusContext): void {
    record('alpha', data, ctx);
  }
}

@Controller()
class BetaHandlers {
  @EventPattern('claim.created')
  onClaimCreated(@Payload() data: unknown, @Ctx() ctx: BusContext): void {
    record('beta', data, ctx);
  }

  @EventPattern('document.uploaded')
  onDocumentUploaded(@Payload() data: unknown, @Ctx() ctx: BusContext): void {
    record('beta', data, ctx);
  }
}

const claim = {
  claimId: '0e0c5a5e-1111-4a4a-8b8b-000000000001',
  ownerId: '0e0c5a5e-1111-4a4a-8b8b-000000000002',
  title: 'Hearing loss',
  type: 'disability',
  status: 'draft',
};

const document = {
  documentId: '0e0c5a5e-1111-4a4a-8b8b-000000000003',
  claimId: claim.claimId,
  ownerId: claim.ownerId,
  filename: 'audiogram.pdf',
  contentType: 'application/pdf',
  sizeBytes: 1234,
  sha256: 'ab'.repeat(32),
};

describe('bus fan-out against RabbitMQ', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let alpha: RunningService;
  let beta: RunningService;
  let client: BusClient;
  let raw: ChannelModel;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    vhost = await freshVhost('bus-fanout');
    alpha = await startService(vhost.url, { service: 'alpha', controllers: [AlphaHandlers], retry: { delaysMs: [100] } });
    beta = await startService(vhost.url, { service: 'beta', controllers: [BetaHandlers], retry: { delaysMs: [100] } });
    client = new BusClient({ url: vhost.url, service: 'producer' });
    raw = await rawConnection(vhost.url);
  });

  afterAll(async () => {
    await raw?.close().catch(() => undefined);
    await client?.close();
    await alpha?.close();
    await beta?.close();
    await vhost?.drop();
    propagation.disable();
    context.disable();
  });

  beforeEach(() => {
    seen.alpha.length = 0;
    seen.beta.length = 0;
  });

  it('delivers an event to every service whose patterns match, with tenant, payload and trace context', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const producerContext = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
    const envelope = await context.with(producerContext, () => client.publishEvent(Events.claimCreated, claim, { tenantId: 'acme', actor: { kind: 'user', id: 'u-1', roles: [] } }));

    await waitFor('both services to receive claim.created', () => seen.alpha.length === 1 && seen.beta.length === 1);
    for (const received of [seen.alpha[0], seen.beta[0]]) {
      expect(received.envelope.id).toBe(envelope.id);
      expect(received.tenantId).toBe('acme');
      expect(received.envelope.actor).toEqual({ kind: 'user', id: 'u-1', roles: [] });
      expect(received.data).toEqual(claim);
      expect(received.traceId).toBe(traceId);
    }
    expect(seen.alpha[0].pattern).toBe('claim.*');
    expect(seen.beta[0].pattern).toBe('claim.created');
    expect(await metricValue(alpha.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'ack' })).toBe(1);
  });

  it('delivers only to services bound to the routing key', async () => {
    await client.publishEvent(Events.documentUploaded, document, { tenantId: 'acme' });
    await client.publishEvent(Events.claimEvidenceAdded, { claimId: claim.claimId, ownerId: claim.ownerId, documentId: document.documentId, filename: 'a.pdf', evidenceCount: 1 }, { tenantId: 'acme' });

    await waitFor('beta to get document.uploaded and alpha claim.evidence_added', () => seen.beta.length === 1 && seen.alpha.length === 1);
    expect(seen.beta[0].envelope.type).toBe('document.uploaded');
    expect(seen.alpha[0].envelope.type).toBe('claim.evidence_added');
    // Give a wrongly routed copy time to show up before asserting its absence.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.alpha.map((s) => s.envelope.type)).toEqual(['claim.evidence_added']);
    expect(seen.beta.map((s) => s.envelope.type)).toEqual(['document.uploaded']);
  });

  it('works through the Nest ClientProxy emit API', async () => {
    await new Promise<void>((resolve, reject) => client.emit('document.uploaded', { tenantId: 'acme', data: document }).subscribe({ complete: resolve, error: reject }));
    await waitFor('beta to receive the emitted event', () => seen.beta.length === 1);
    expect(seen.beta[0].envelope.type).toBe('document.uploaded');
  });

  it('parks an invalid payload at once, without retries and without calling the handler', async () => {
    const envelope = createEnvelope(Events.claimCreated, claim, { tenantId: 'acme' });
    const message = toOutgoingMessage({ ...envelope, data: { ...claim, claimId: 'not-a-uuid' } });
    const channel = await raw.createConfirmChannel();
    channel.publish(message.exchange, message.routingKey, message.content, message.options);
    await channel.waitForConfirms();
    await channel.close();

    await waitFor('alpha to park the invalid message', async () => (await queueDepth(raw, 'rf.alpha.parked')) === 1);
    const parked = await ParkedMessages.using(raw).list('alpha');
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ messageId: envelope.id, type: 'claim.created', tenantId: 'acme', attempts: 1, reason: 'rejected' });
    expect(parked[0].error).toMatch(/claim\.created@1 does not match its contract: claimId/);
    expect(seen.alpha).toHaveLength(0);
    expect(await metricValue(alpha.registry, 'bus_messages_consumed_total', { type: 'claim.created', outcome: 'rejected' })).toBe(1);
    // Listing leaves the message parked.
    expect(await queueDepth(raw, 'rf.alpha.parked')).toBe(1);
  });

  it('parks a message whose tenant header differs from the envelope tenant', async () => {
    const envelope = createEnvelope(Events.documentUploaded, document, { tenantId: 'acme' });
    const message = toOutgoingMessage(envelope);
    const channel = await raw.createConfirmChannel();
    channel.publish(message.exchange, message.routingKey, message.content, { ...message.options, headers: { ...message.options.headers, [BusHeaders.tenantId]: 'intruder' } });
    await channel.waitForConfirms();
    await channel.close();

    // beta also parked the invalid claim.created of the previous test (it is bound to claim.created too).
    const parked = await waitFor('beta to park the mismatched message', async () =>
      (await ParkedMessages.using(raw).list('beta')).find((m) => m.messageId === envelope.id),
    );
    expect(parked.reason).toBe('rejected');
    expect(parked.error).toMatch(/"intruder" does not match envelope tenant "acme"/);
    expect(seen.beta).toHaveLength(0);
  });

  it('parks a valid message the service has no handler for (e.g. left over from a removed binding)', async () => {
    const envelope = createEnvelope(Events.documentUploaded, document, { tenantId: 'acme' });
    const message = toOutgoingMessage(envelope);
    const channel = await raw.createConfirmChannel();
    channel.sendToQueue('rf.alpha', message.content, message.options);
    await channel.waitForConfirms();
    await channel.close();

    const parked = await waitFor('alpha to park the unhandled message', async () =>
      (await ParkedMessages.using(raw).list('alpha')).find((m) => m.messageId === envelope.id),
    );
    expect(parked).toMatchObject({ reason: 'rejected', error: 'Service alpha has no handler for document.uploaded' });
  });

  it('counts messages of unknown types under one "unknown" label', async () => {
    const envelope = createEnvelope(Events.claimCreated, claim, { tenantId: 'acme' });
    const message = toOutgoingMessage({ ...envelope, type: 'claim.made_up' });
    const channel = await raw.createConfirmChannel();
    channel.publish(message.exchange, 'claim.made_up', message.content, { ...message.options, headers: { ...message.options.headers, [BusHeaders.messageType]: 'claim.made_up' } });
    await channel.waitForConfirms();
    await channel.close();

    await waitFor('alpha to reject it', async () => (await metricValue(alpha.registry, 'bus_messages_consumed_total', { type: 'unknown', outcome: 'rejected' })) === 1);
    const parked = (await ParkedMessages.using(raw).list('alpha')).find((m) => m.messageId === envelope.id);
    expect(parked?.error).toBe('Unknown message type claim.made_up@1');
  });

  it('reports the connection as healthy with bus_connection_up 1', async () => {
    expect(alpha.connection.isHealthy()).toBe(true);
    expect(await metricValue(alpha.registry, 'bus_connection_up', { connection: 'alpha' })).toBe(1);
  });
});
