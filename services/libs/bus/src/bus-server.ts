import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { RpcException, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { context, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import { BusHeaders, type CommandReply } from '@rallyforge/contracts';
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import type { Registry } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import type { DataSource } from 'typeorm';
import { nextRetryDelay } from './backoff';
import {
  BUS_CONTENT_TYPE,
  BUS_DEFAULT_CLOSE_TIMEOUT_MS,
  BUS_DEFAULT_INBOX_BATCH_SIZE,
  BUS_DEFAULT_PREFETCH,
  BUS_DEFAULT_RETRY_DELAYS_MS,
  BUS_TRACER_NAME,
  BUS_TRANSPORT_ID,
  INBOX_CLEANUP_BATCH_SIZE,
  INBOX_DEFAULT_CLEANUP_INTERVAL_MS,
  INBOX_DEFAULT_RETENTION_MS,
} from './bus.constants';
import { BusConfigurationError } from './bus.errors';
import { BusMessages } from './bus.messages';
import { BusConnection, type BusConnectionState, type SetupRegistration } from './bus-connection';
import { BusContext, type BusDelivery } from './bus-context';
import { BusMetrics, type ConsumeOutcome } from './bus-metrics';
import { ConfirmPublisher } from './confirm-publisher';
import { InboxRepository } from './inbox/inbox.repository';
import { decodeMessage, findLatestContract } from './message-envelope';
import { describeError, parkedHeaders, readAttempt, readStringHeader, republishHeaders } from './message-headers';
import { isWildcardPattern, matchesTopicPattern } from './topic-pattern';
import { assertRetryDelays, assertServiceName, assertServiceTopology, parkedQueueName, retryQueueName, serviceQueueName } from './topology';
import { extractTraceContext } from './trace-context';

export interface BusServerOptions {
  /** The consuming service (`claims`): names its queues `rf.claims…` and its inbox rows. */
  readonly service: string;
  /** A shared connection (also used by the client and relay). Either this or `url`. */
  readonly connection?: BusConnection;
  /** AMQP URL; the server then owns (and closes) its connection. Either this or `connection`. */
  readonly url?: string;
  /**
   * The service's DataSource: handlers then run in a transaction that first records the message in `bus_inbox`
   * (duplicates are acknowledged without calling the handler), and `ctx.manager` is that transaction.
   */
  readonly dataSource?: DataSource;
  /** Unacked deliveries (= parallel handlers) at most. @default BUS_DEFAULT_PREFETCH (32) */
  readonly prefetch?: number;
  /**
   * With a DataSource: events delivered together are handled in one inbox transaction of up to this many messages
   * (a failure re-runs each on its own). 1 gives every message its own transaction.
   * @default BUS_DEFAULT_INBOX_BATCH_SIZE (16)
   */
  readonly inboxBatchSize?: number;
  /** Delayed retries before parking. @default { delaysMs: [1000, 5000, 30000] } */
  readonly retry?: { readonly delaysMs?: readonly number[] };
  /** How long `close()` waits for handlers in flight. @default BUS_DEFAULT_CLOSE_TIMEOUT_MS (10 s) */
  readonly closeTimeoutMs?: number;
  /** How long inbox rows are kept (the duplicate-detection window). @default 7 days */
  readonly inboxRetentionMs?: number;
  /** @default prom-client's global registry */
  readonly registry?: Registry;
  readonly logger?: LoggerService;
}

/** Events of `BusServer.on()`: the connection's state changes. */
export type BusServerEvents = {
  state: (state: BusConnectionState, previous: BusConnectionState) => void;
};

/** Outcome of running the handlers of one delivery. */
type Execution = { readonly status: 'ok'; readonly result: unknown } | { readonly status: 'duplicate' } | { readonly status: 'failed'; readonly error: unknown };

interface MatchedHandler {
  readonly pattern: string;
  readonly handler: MessageHandler;
}

/** An event waiting for the next inbox batch, with the trace context its handlers must run in. */
interface BatchItem {
  readonly delivery: BusDelivery;
  readonly handlers: MatchedHandler[];
  readonly context: Context;
  readonly resolve: (execution: Execution) => void;
}

/** A routing key or topic pattern: dot-separated words, `*` and `#` allowed. */
const PATTERN_SYNTAX = /^(?:[A-Za-z0-9_-]+|\*|#)(?:\.(?:[A-Za-z0-9_-]+|\*|#))*$/;

/**
 * The NestJS transport of RallyForge services (`app.connectMicroservice({ strategy: new BusServer(...) })`).
 * Consumes `rf.<service>`, bound by the patterns of the app's `@EventPattern`/`@MessagePattern` handlers, and:
 * validates envelope, contract, tenant header and payload (invalid → parked at once); runs the handlers in the
 * producer's trace context (and, with a DataSource, in an inbox transaction); acks only after success/commit;
 * on failure republishes to `rf.<service>.retry.<delay>` with attempt+1, and after the last delay parks the
 * message in `rf.<service>.parked` with the error in its headers. Requests (`replyTo` set) get a `CommandReply`.
 */
export class BusServer extends Server<BusServerEvents, BusConnectionState> implements CustomTransportStrategy {
  override readonly transportId = BUS_TRANSPORT_ID;
  readonly service: string;
  readonly connection: BusConnection;
  private readonly ownsConnection: boolean;
  private readonly retryDelaysMs: readonly number[];
  private readonly prefetch: number;
  private readonly publisher: ConfirmPublisher;
  private readonly metrics: BusMetrics;
  private readonly busLogger: LoggerService;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly batchSize: number;
  private readonly batchQueue: BatchItem[] = [];
  private batchFlushScheduled = false;
  private registration?: SetupRegistration;
  private consumer?: { readonly channel: Channel; readonly consumerTag: string };
  private closing = false;
  private inboxCleanupTimer?: NodeJS.Timeout;
  private readonly onState = (state: BusConnectionState): void => this._status$.next(state);

  constructor(private readonly options: BusServerOptions) {
    super();
    assertServiceName(options.service);
    this.retryDelaysMs = options.retry?.delaysMs ?? BUS_DEFAULT_RETRY_DELAYS_MS;
    assertRetryDelays(this.retryDelaysMs);
    if (!options.connection && !options.url) throw new BusConfigurationError(BusMessages.connectionOrUrlRequired('BusServer'));
    this.service = options.service;
    this.ownsConnection = !options.connection;
    this.connection =
      options.connection ?? new BusConnection({ url: options.url as string, name: options.service, registry: options.registry, logger: options.logger });
    this.prefetch = options.prefetch ?? BUS_DEFAULT_PREFETCH;
    this.batchSize = Math.max(1, Math.floor(options.inboxBatchSize ?? BUS_DEFAULT_INBOX_BATCH_SIZE));
    this.metrics = BusMetrics.for(options.registry);
    this.busLogger = options.logger ?? new Logger(BusServer.name);
    this.publisher = new ConfirmPublisher(this.connection, { owner: `consumer of ${options.service}`, logger: this.busLogger });
  }

  /** The service queue this server consumes. */
  get queue(): string {
    return serviceQueueName(this.service);
  }

  /** Handlers currently running. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Declares the topology and starts consuming; calls back once consuming (waits for the broker if it is down). */
  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      this.closing = false;
      const patterns = this.handlerPatterns();
      this.connection.on('state', this.onState);
      this._status$.next(this.connection.state);
      const publisherReady = this.publisher.start();
      this.registration = this.connection.addSetup((model) => this.setupConsumer(model, patterns));
      this.connection.start();
      await Promise.all([publisherReady, this.registration.ready]);
      this.startInboxCleanup();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Stops consuming, waits (bounded) for handlers in flight, then closes the channels (and an owned connection). */
  async close(): Promise<void> {
    this.closing = true;
    this.registration?.remove();
    this.registration = undefined;
    clearInterval(this.inboxCleanupTimer);
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) await consumer.channel.cancel(consumer.consumerTag).catch(() => undefined);
    await this.drain(this.options.closeTimeoutMs ?? BUS_DEFAULT_CLOSE_TIMEOUT_MS);
    if (consumer) await consumer.channel.close().catch(() => undefined);
    await this.publisher.stop();
    this.connection.off('state', this.onState);
    if (this.ownsConnection) await this.connection.close();
  }

  /** Connection events, e.g. `server.on('state', (state) => …)`. */
  on<EventKey extends keyof BusServerEvents = keyof BusServerEvents, EventCallback extends BusServerEvents[EventKey] = BusServerEvents[EventKey]>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    this.connection.on(event, callback);
  }

  unwrap<T>(): T {
    const model = this.connection.channelModel;
    if (!model) throw new BusConfigurationError(BusMessages.notConnected(this.connection.name, 0));
    return model as T;
  }

  private handlerPatterns(): string[] {
    const patterns = [...this.messageHandlers.keys()];
    for (const pattern of patterns) {
      if (!PATTERN_SYNTAX.test(pattern)) {
        throw new BusConfigurationError(BusMessages.invalidHandlerPattern(pattern));
      }
    }
    return patterns;
  }

  private async setupConsumer(model: ChannelModel, patterns: string[]): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: unknown) => {
      if (this.consumer?.channel !== channel || this.closing) return;
      this.busLogger.error(BusMessages.channelClosedUnexpectedly(`consumer of ${this.service}`, describeError(error)));
      this.connection.recover(describeError(error));
    });
    await assertServiceTopology(channel, { service: this.service, patterns, retryDelaysMs: this.retryDelaysMs });
    await channel.prefetch(this.prefetch);
    const { consumerTag } = await channel.consume(this.queue, (message) => this.onDelivery(channel, message), { noAck: false });
    this.consumer = { channel, consumerTag };
    this.busLogger.log(BusMessages.consumerStarted(this.service, this.queue, patterns));
  }

  private onDelivery(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted or failed over): start over on a fresh connection.
      if (!this.closing) {
        this.busLogger.warn(BusMessages.consumerCancelledByBroker(this.queue));
        this.connection.recover('consumer cancelled by the broker');
      }
      return;
    }
    const work: Promise<void> = this.handleDelivery(channel, message)
      .catch((error: unknown) => this.busLogger.error(describeError(error)))
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  private async handleDelivery(channel: Channel, message: ConsumeMessage): Promise<void> {
    const headers = message.properties.headers;
    const decoded = decodeMessage(message.content, headers);
    const type = metricType(decoded.envelope?.type ?? readStringHeader(headers, BusHeaders.messageType));
    const endTimer = this.metrics.handlerDuration.startTimer({ type });
    try {
      if (!decoded.ok) return await this.reject(channel, message, type, decoded.reason);
      const delivery: BusDelivery = {
        envelope: decoded.envelope,
        contract: decoded.contract,
        attempt: readAttempt(headers),
        message,
        pattern: decoded.envelope.type,
        traceContext: extractTraceContext(headers),
      };
      const isRequest = Boolean(message.properties.replyTo);
      const handlers = this.matchHandlers(decoded.envelope.type, isRequest);
      if (handlers.length === 0) return await this.reject(channel, message, type, `Service ${this.service} has no handler for ${type}`);
      const batched = this.batchSize > 1 && !isRequest && this.options.dataSource !== undefined;
      const execution = await this.runTraced(delivery, () => (batched ? this.executeBatched(delivery, handlers) : this.execute(delivery, handlers)));
      if (isRequest && !handlers[0].handler.isEventHandler) return await this.settleRequest(channel, message, type, execution);
      await this.settleEvent(channel, message, delivery, execution);
    } finally {
      endTimer();
    }
  }

  /** Message handlers for requests; otherwise every matching event handler (exact and wildcard patterns). */
  private matchHandlers(type: string, isRequest: boolean): MatchedHandler[] {
    const matched: MatchedHandler[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      if (pattern === type || (isWildcardPattern(pattern) && matchesTopicPattern(pattern, type))) matched.push({ pattern, handler });
    }
    const requestHandlers = matched.filter((m) => !m.handler.isEventHandler);
    if (isRequest && requestHandlers.length > 0) return requestHandlers.slice(0, 1);
    const eventHandlers = matched.filter((m) => m.handler.isEventHandler);
    // A command sent fire-and-forget (no replyTo) still reaches its @MessagePattern handler; the result is dropped.
    return eventHandlers.length > 0 ? eventHandlers : requestHandlers.slice(0, 1);
  }

  /** Runs `work` as a CONSUMER span whose parent is the producer's trace (no-op without an OpenTelemetry SDK). */
  private runTraced(delivery: BusDelivery, work: () => Promise<Execution>): Promise<Execution> {
    const tracer = trace.getTracer(BUS_TRACER_NAME);
    return context.with(delivery.traceContext, () =>
      tracer.startActiveSpan(
        `${delivery.envelope.type} process`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'rabbitmq',
            'messaging.operation': 'process',
            'messaging.destination.name': this.queue,
            'messaging.message.id': delivery.envelope.id,
            'messaging.rabbitmq.destination.routing_key': delivery.message.fields.routingKey,
            'rallyforge.tenant_id': delivery.envelope.tenantId,
            'rallyforge.message.attempt': delivery.attempt,
          },
        },
        async (span) => {
          try {
            const execution = await work();
            if (execution.status === 'failed') {
              span.recordException(execution.error instanceof Error ? execution.error : describeError(execution.error));
              span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(execution.error) });
            }
            return execution;
          } finally {
            span.end();
          }
        },
      ),
    );
  }

  /** Calls the handlers; with a DataSource inside one transaction that starts with the inbox insert. */
  private async execute(delivery: BusDelivery, handlers: MatchedHandler[]): Promise<Execution> {
    const dataSource = this.options.dataSource;
    try {
      if (!dataSource) return { status: 'ok', result: await this.invoke(delivery, handlers) };
      return await dataSource.transaction(async (manager): Promise<Execution> => {
        const fresh = await InboxRepository.claim(manager, this.service, delivery.envelope.id, delivery.envelope.type);
        if (!fresh) return { status: 'duplicate' };
        return { status: 'ok', result: await this.invoke({ ...delivery, manager }, handlers) };
      });
    } catch (error) {
      return { status: 'failed', error };
    }
  }

  /** Queues an event for the next inbox batch (deliveries that arrived in the same turn of the event loop). */
  private executeBatched(delivery: BusDelivery, handlers: MatchedHandler[]): Promise<Execution> {
    return new Promise((resolve) => {
      this.batchQueue.push({ delivery, handlers, context: context.active(), resolve });
      if (this.batchFlushScheduled) return;
      this.batchFlushScheduled = true;
      setImmediate(() => this.flushBatches());
    });
  }

  private flushBatches(): void {
    this.batchFlushScheduled = false;
    while (this.batchQueue.length > 0) void this.runBatch(this.batchQueue.splice(0, this.batchSize));
  }

  /**
   * Handles a batch of events in one transaction: one inbox insert for all, then each message's handlers in turn,
   * one commit; four round trips per message become about one. When a handler fails, the batch is rolled back,
   * that message fails as it would alone (delayed retry, then park), and the others run again as a new batch.
   * When the inbox insert or the commit fails, every message runs again in a transaction of its own.
   */
  private async runBatch(items: BatchItem[]): Promise<void> {
    const alone = (item: BatchItem): Promise<Execution> => context.with(item.context, () => this.execute(item.delivery, item.handlers));
    if (items.length === 1) {
      items[0].resolve(await alone(items[0]));
      return;
    }
    const dataSource = this.options.dataSource as DataSource;
    let failed: { index: number; error: unknown } | undefined;
    try {
      const executions = await dataSource.transaction(async (manager) => {
        const fresh = await InboxRepository.claimMany(manager, this.service, items.map((item) => item.delivery.envelope));
        const results: Execution[] = [];
        for (const [index, item] of items.entries()) {
          // delete(): a second copy of the same message within the batch is a duplicate of the first.
          if (!fresh.delete(item.delivery.envelope.id.toLowerCase())) {
            results.push({ status: 'duplicate' });
            continue;
          }
          try {
            results.push({ status: 'ok', result: await context.with(item.context, () => this.invoke({ ...item.delivery, manager }, item.handlers)) });
          } catch (error) {
            failed = { index, error };
            throw error;
          }
        }
        return results;
      });
      items.forEach((item, index) => item.resolve(executions[index]));
    } catch {
      if (!failed) {
        const executions = await Promise.all(items.map(alone));
        items.forEach((item, index) => item.resolve(executions[index]));
        return;
      }
      const { index, error } = failed;
      items[index].resolve({ status: 'failed', error });
      await this.runBatch(items.filter((_, i) => i !== index));
    }
  }

  private async invoke(delivery: BusDelivery, handlers: MatchedHandler[]): Promise<unknown> {
    let result: unknown;
    for (const { pattern, handler } of handlers) {
      const ctx = new BusContext({ ...delivery, pattern });
      try {
        result = await lastValueFrom(this.transformToObservable(await handler(delivery.envelope.data, ctx)), { defaultValue: undefined });
      } catch (error) {
        throw unwrapRpcException(ctx.handlerError ?? toError(error));
      }
    }
    return result;
  }

  private async settleEvent(channel: Channel, message: ConsumeMessage, delivery: BusDelivery, execution: Execution): Promise<void> {
    const type = delivery.envelope.type;
    if (execution.status === 'ok' || execution.status === 'duplicate') {
      this.ack(channel, message);
      this.metrics.consumed.inc({ type, outcome: execution.status === 'ok' ? 'ack' : 'duplicate' });
      return;
    }
    const error = describeError(execution.error);
    // A refusal (the actor may not do this, the message is invalid for this handler) is the same on every attempt:
    // park it at once instead of retrying it for a minute.
    if (isRefusal(execution.error)) return this.park(channel, message, type, error, 'rejected');
    const delayMs = nextRetryDelay(delivery.attempt, this.retryDelaysMs);
    if (delayMs === undefined) return this.park(channel, message, type, error, 'failed');
    const headers = republishHeaders(message.properties.headers, {
      [BusHeaders.attempt]: delivery.attempt + 1,
      [BusHeaders.error]: error,
      [BusHeaders.originalRoutingKey]: originalRoutingKey(message),
    });
    await this.moveTo(channel, message, retryQueueName(this.service, delayMs), headers, type, 'retry');
    this.busLogger.warn(BusMessages.messageRetryScheduled(delivery.envelope.id, type, delivery.attempt + 1, delayMs, error));
  }

  private async settleRequest(channel: Channel, message: ConsumeMessage, type: string, execution: Execution): Promise<void> {
    let reply: CommandReply<unknown>;
    let outcome: ConsumeOutcome;
    if (execution.status === 'ok') {
      reply = isCommandReply(execution.result) ? execution.result : { ok: true, data: execution.result ?? null };
      outcome = 'ack';
    } else if (execution.status === 'duplicate') {
      reply = { ok: false, code: 'duplicate_message', message: `Request ${message.properties.messageId} was handled before` };
      outcome = 'duplicate';
    } else {
      reply = { ok: false, code: errorCode(execution.error), message: describeError(execution.error) };
      outcome = 'rejected';
    }
    await this.reply(message, type, reply);
    this.ack(channel, message);
    this.metrics.consumed.inc({ type, outcome });
  }

  /** Invalid or unroutable message: parked at once (retrying cannot fix it); a waiting requester gets an error reply. */
  private async reject(channel: Channel, message: ConsumeMessage, type: string, reason: string): Promise<void> {
    if (message.properties.replyTo) await this.reply(message, type, { ok: false, code: 'invalid_message', message: reason });
    await this.park(channel, message, type, reason, 'rejected');
  }

  private async park(channel: Channel, message: ConsumeMessage, type: string, error: string, reason: 'rejected' | 'failed'): Promise<void> {
    const queue = parkedQueueName(this.service);
    const headers = parkedHeaders(message.properties.headers, {
      error,
      reason,
      originalQueue: this.queue,
      originalRoutingKey: originalRoutingKey(message),
      parkedAt: new Date(),
    });
    const moved = await this.moveTo(channel, message, queue, headers, type, reason === 'rejected' ? 'rejected' : 'park');
    if (moved) this.busLogger.warn(BusMessages.messageParked(queue, String(message.properties.messageId ?? '?'), type, error));
  }

  /** Republishes a copy (confirmed) to `queue` through the default exchange, then acks the original. */
  private async moveTo(channel: Channel, message: ConsumeMessage, queue: string, headers: Options.Publish['headers'], type: string, outcome: ConsumeOutcome): Promise<boolean> {
    const props = message.properties;
    try {
      await this.publisher.publishOne({
        exchange: '',
        routingKey: queue,
        content: message.content,
        options: {
          persistent: true,
          messageId: (props.messageId as string | undefined) ?? randomUUID(),
          contentType: props.contentType ?? BUS_CONTENT_TYPE,
          ...(props.type ? { type: props.type as string } : {}),
          ...(props.timestamp ? { timestamp: props.timestamp as number } : {}),
          ...(props.appId ? { appId: props.appId as string } : {}),
          ...(props.correlationId ? { correlationId: props.correlationId as string } : {}),
          headers,
        },
      });
    } catch (error) {
      this.busLogger.error(BusMessages.failurePathFailed(String(props.messageId ?? '?'), describeError(error)));
      this.nack(channel, message);
      return false;
    }
    this.ack(channel, message);
    this.metrics.consumed.inc({ type, outcome });
    return true;
  }

  private async reply(message: ConsumeMessage, type: string, reply: CommandReply<unknown>): Promise<void> {
    const { replyTo, correlationId, headers } = message.properties;
    const tenantId = readStringHeader(headers, BusHeaders.tenantId);
    try {
      await this.publisher.publishOne({
        exchange: '',
        routingKey: replyTo as string,
        content: Buffer.from(JSON.stringify(reply)),
        options: {
          messageId: randomUUID(),
          correlationId: correlationId as string | undefined,
          contentType: BUS_CONTENT_TYPE,
          type: `${type}.reply`,
          headers: tenantId === undefined ? {} : { [BusHeaders.tenantId]: tenantId },
        },
      });
    } catch (error) {
      // The requester times out; the request itself was handled (or rejected) and is acknowledged.
      this.busLogger.warn(BusMessages.replyFailed(String(correlationId ?? message.properties.messageId), describeError(error)));
    }
  }

  /** Acks on the channel the message came from; if that channel died, the broker redelivers (the inbox absorbs it). */
  private ack(channel: Channel, message: ConsumeMessage): void {
    try {
      channel.ack(message);
    } catch {
      // Channel closed: nothing to do.
    }
  }

  private nack(channel: Channel, message: ConsumeMessage): void {
    try {
      channel.nack(message, false, true);
    } catch {
      // Channel closed: redelivered anyway.
    }
  }

  private async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([Promise.allSettled([...this.inFlight]), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.busLogger.warn(BusMessages.closeTimedOut(this.service, this.inFlight.size, timeoutMs));
  }

  private startInboxCleanup(): void {
    const dataSource = this.options.dataSource;
    if (!dataSource || this.inboxCleanupTimer) return;
    const retentionMs = this.options.inboxRetentionMs ?? INBOX_DEFAULT_RETENTION_MS;
    this.inboxCleanupTimer = setInterval(() => {
      InboxRepository.deleteOlderThan(dataSource, retentionMs, INBOX_CLEANUP_BATCH_SIZE).catch((error: unknown) =>
        this.busLogger.warn(BusMessages.housekeepingFailed('inbox', describeError(error))),
      );
    }, INBOX_DEFAULT_CLEANUP_INTERVAL_MS);
    this.inboxCleanupTimer.unref();
  }
}

/**
 * The `type` label of a message: its type when it is a known contract, else `unknown`. Types of invalid messages
 * come from the sender; using them as labels would let any producer grow the metric series without bound.
 */
function metricType(type: string | undefined): string {
  return type !== undefined && findLatestContract(type) ? type : 'unknown';
}

/** The routing key the message was first published with (retries come back with the service queue's name). */
function originalRoutingKey(message: ConsumeMessage): string {
  return readStringHeader(message.properties.headers, BusHeaders.originalRoutingKey) ?? message.fields.routingKey;
}

/** Nest's RPC filters turn errors into `{ status: 'error', message }` objects; make them Errors again. */
function toError(error: unknown): unknown {
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const wrapped = new Error(String((error as { message: unknown }).message));
    wrapped.name = 'HandlerError';
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') Object.assign(wrapped, { code });
    return wrapped;
  }
  return error;
}

/** An `RpcException`'s payload (`{ code, message }` or a string) says what the handler meant; use it instead of the wrapper. */
function unwrapRpcException(error: unknown): unknown {
  if (!(error instanceof RpcException)) return error;
  const payload = error.getError();
  return typeof payload === 'string' ? new Error(payload) : payload;
}

/** HTTP statuses a handler's error may carry (AppError and Nest's HttpException do) that no retry can change. */
export const BUS_REFUSAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 422]);

/**
 * An error whose HTTP status (`status` as on the service kit's AppError, `statusCode`, or Nest's `getStatus()`)
 * says the message was refused rather than failed.
 */
function isRefusal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, statusCode, getStatus } = error as { status?: unknown; statusCode?: unknown; getStatus?: unknown };
  const value = [status, statusCode, typeof getStatus === 'function' ? (getStatus as () => unknown).call(error) : undefined].find(
    (candidate) => typeof candidate === 'number',
  );
  return typeof value === 'number' && BUS_REFUSAL_STATUSES.has(value);
}

/** A stable code for an error reply: the error's own string `code` (BusError, RpcException payloads) or a generic one. */
function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.length > 0 ? code : 'handler_failed';
}

function isCommandReply(value: unknown): value is CommandReply<unknown> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  const reply = value as { ok: unknown; data?: unknown; code?: unknown };
  return (reply.ok === true && 'data' in reply) || (reply.ok === false && typeof reply.code === 'string');
}
