import { Logger, type LoggerService } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { CommandReply, Envelope, MessageContract, Payload } from '@rallyforge/contracts';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Registry } from 'prom-client';
import { BUS_DEFAULT_PUBLISH_TIMEOUT_MS, BUS_DEFAULT_REQUEST_TIMEOUT_MS } from './bus.constants';
import { BusCommandFailedError, BusConfigurationError, BusNotConnectedError, BusPublishError, BusRequestError, BusRequestTimeoutError } from './bus.errors';
import { BusMessages } from './bus.messages';
import { BusConnection, type BusConnectionState, type SetupRegistration } from './bus-connection';
import { BusMetrics } from './bus-metrics';
import { ConfirmPublisher } from './confirm-publisher';
import { createEnvelope, requireContract, toOutgoingMessage, type SendOptions } from './message-envelope';
import { describeError } from './message-headers';
import { injectTraceHeaders } from './trace-context';

export interface BusClientOptions {
  /** A shared connection (server, client and relay of a service share one). Either this or `url`. */
  readonly connection?: BusConnection;
  /** AMQP URL; the client then owns (and closes) its connection. */
  readonly url?: string;
  /** Service name, sent as AMQP `app-id` and used as the connection name of an owned connection. */
  readonly service?: string;
  /** @default BUS_DEFAULT_REQUEST_TIMEOUT_MS (10 s) */
  readonly requestTimeoutMs?: number;
  /** How long a publish waits for a connection and the confirm. @default BUS_DEFAULT_PUBLISH_TIMEOUT_MS (10 s) */
  readonly publishTimeoutMs?: number;
  /** @default prom-client's global registry */
  readonly registry?: Registry;
  readonly logger?: LoggerService;
}

/** `data` of Nest's `client.emit(type, data)`. */
export interface BusEmitData<T = unknown> extends SendOptions {
  readonly data: T;
  /** Contract version; the latest version of the type by default. */
  readonly version?: number;
}

/** `data` of Nest's `client.send(type, data)`. */
export interface BusSendData<T = unknown> extends BusEmitData<T> {
  readonly timeoutMs?: number;
}

export interface RequestOptions extends SendOptions {
  /** @default the client's requestTimeoutMs */
  readonly timeoutMs?: number;
}

interface PendingRequest {
  readonly type: string;
  readonly resolve: (reply: CommandReply<unknown>) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Publishing side of the bus, as a Nest `ClientProxy`:
 * - `publishEvent(contract, payload, { tenantId })`: validated, published with confirms (for events that are not
 *   part of a database change; those go through the `OutboxPublisher`);
 * - `request(contract, payload, { tenantId, timeoutMs })`: request/reply over an exclusive reply queue with the
 *   message id as correlation id; resolves with the reply's data, throws `BusCommandFailedError` for an error
 *   reply, `BusRequestTimeoutError` on timeout, `BusRequestError` when no service consumes the command.
 * - Nest style: `emit('claim.created', { tenantId, data })` and `send('auth.organisation.upsert', { tenantId, data })`.
 */
export class BusClient extends ClientProxy {
  readonly connection: BusConnection;
  private readonly ownsConnection: boolean;
  private readonly publisher: ConfirmPublisher;
  private readonly metrics: BusMetrics;
  private readonly logger: LoggerService;
  private readonly pending = new Map<string, PendingRequest>();
  private replySetup?: SetupRegistration;
  private replies?: { readonly channel: Channel; readonly queue: string };
  private closed = false;
  private readonly onState = (state: BusConnectionState): void => this._status$.next(state);

  constructor(private readonly options: BusClientOptions) {
    super();
    if (!options.connection && !options.url) throw new BusConfigurationError(BusMessages.connectionOrUrlRequired('BusClient'));
    this.ownsConnection = !options.connection;
    this.connection =
      options.connection ?? new BusConnection({ url: options.url as string, name: options.service, registry: options.registry, logger: options.logger });
    this.metrics = BusMetrics.for(options.registry);
    this.logger = options.logger ?? new Logger(BusClient.name);
    this.publisher = new ConfirmPublisher(this.connection, { owner: `client${options.service ? ` of ${options.service}` : ''}`, logger: this.logger });
    this.connection.on('state', this.onState);
  }

  /** Opens the publishing channel; waits at most `publishTimeoutMs` for the broker (Nest calls this before every emit/send). */
  async connect(): Promise<void> {
    if (this.closed) throw new BusNotConnectedError(BusMessages.clientClosed);
    const ready = this.publisher.start();
    this.connection.start();
    await this.withinTimeout(ready, this.options.publishTimeoutMs ?? BUS_DEFAULT_PUBLISH_TIMEOUT_MS);
  }

  /** Cancels pending requests, closes the channels (and an owned connection). */
  async close(): Promise<void> {
    this.closed = true;
    this.failPending(() => new BusRequestError(BusMessages.clientClosed, 'bus_client_closed'));
    this.replySetup?.remove();
    this.replySetup = undefined;
    const replies = this.replies;
    this.replies = undefined;
    if (replies) await replies.channel.close().catch(() => undefined);
    await this.publisher.stop();
    this.connection.off('state', this.onState);
    if (this.ownsConnection) await this.connection.close();
  }

  unwrap<T>(): T {
    const model = this.connection.channelModel;
    if (!model) throw new BusNotConnectedError(BusMessages.notConnected(this.connection.name, 0));
    return model as T;
  }

  /** Publishes an event (validated against its contract) and resolves once RabbitMQ confirmed it. */
  async publishEvent<C extends MessageContract>(contract: C, payload: Payload<C>, options: SendOptions): Promise<Envelope<Payload<C>>> {
    const envelope = createEnvelope(contract, payload, options);
    await this.connect();
    const message = toOutgoingMessage(envelope, { trace: injectTraceHeaders(), appId: this.options.service });
    const result = await this.publisher.publishOne(message, this.options.publishTimeoutMs ?? BUS_DEFAULT_PUBLISH_TIMEOUT_MS);
    if (!result.ok) throw new BusPublishError(result.error ?? 'not confirmed');
    this.metrics.published.inc({ type: envelope.type });
    return envelope;
  }

  /** Sends a command and waits for its reply (see the class comment for the errors). */
  async request<TReply = unknown, C extends MessageContract = MessageContract>(contract: C, payload: Payload<C>, options: RequestOptions): Promise<TReply> {
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? BUS_DEFAULT_REQUEST_TIMEOUT_MS;
    const envelope = createEnvelope(contract, payload, options);
    const correlationId = envelope.id;
    const deadline = Date.now() + timeoutMs;
    await this.connect();
    const replyTo = await this.replyQueue(timeoutMs);
    const reply = new Promise<CommandReply<unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new BusRequestTimeoutError(BusMessages.requestTimedOut(contract.type, correlationId, timeoutMs), correlationId, timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      this.pending.set(correlationId, { type: contract.type, resolve, reject, timer });
    });
    const base = toOutgoingMessage(envelope, { trace: injectTraceHeaders(), appId: this.options.service });
    const message = {
      ...base,
      // A request nobody answers in time is worthless afterwards: let the broker drop it instead of a late handler.
      options: { ...base.options, replyTo, correlationId, expiration: String(timeoutMs), mandatory: true },
    };
    try {
      const [result] = await this.publisher.publish([message], Math.max(1, deadline - Date.now()));
      if (!result.ok) this.settle(correlationId, new BusPublishError(result.error ?? 'not confirmed'));
      else if (result.returned) this.settle(correlationId, new BusRequestError(BusMessages.requestNotRoutable(contract.type), 'bus_no_route'));
      else this.metrics.published.inc({ type: contract.type });
    } catch (error) {
      this.settle(correlationId, error);
    }
    const answer = await reply;
    if (!answer.ok) throw new BusCommandFailedError(BusMessages.requestFailed(contract.type, answer.code, answer.message), answer.code, answer.message);
    return answer.data as TReply;
  }

  /** Nest `send(type, { tenantId, data, timeoutMs })`: request/reply through the ClientProxy observable API. */
  protected publish(packet: ReadPacket<BusSendData>, callback: (packet: WritePacket) => void): () => void {
    let cancelled = false;
    const run = async (): Promise<unknown> => {
      const data = packet.data;
      const contract = requireContract(this.normalizePattern(packet.pattern), data.version);
      return this.request(contract, data.data as Payload<MessageContract>, data);
    };
    run().then(
      (response) => !cancelled && callback({ response, isDisposed: true }),
      (err: unknown) => !cancelled && callback({ err, isDisposed: true }),
    );
    return () => {
      cancelled = true;
    };
  }

  /** Nest `emit(type, { tenantId, data })`: publishes the event with confirms. */
  protected async dispatchEvent<T = Envelope>(packet: ReadPacket<BusEmitData>): Promise<T> {
    const contract = requireContract(this.normalizePattern(packet.pattern), packet.data.version);
    return (await this.publishEvent(contract, packet.data.data as Payload<MessageContract>, packet.data)) as T;
  }

  /** The exclusive reply queue, declared on first use and again after every reconnect. */
  private async replyQueue(timeoutMs: number): Promise<string> {
    this.replySetup ??= this.connection.addSetup((model) => this.setupReplies(model));
    await this.withinTimeout(this.replySetup.ready, timeoutMs);
    if (!this.replies) throw new BusNotConnectedError(BusMessages.notConnected(this.connection.name, timeoutMs));
    return this.replies.queue;
  }

  private async setupReplies(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: unknown) => {
      if (this.replies?.channel !== channel) return;
      this.logger.error(BusMessages.channelClosedUnexpectedly('reply consumer', describeError(error)));
      this.connection.recover(describeError(error));
    });
    channel.on('close', () => {
      if (this.replies?.channel !== channel) return;
      this.replies = undefined;
      // The exclusive reply queue died with the channel: no reply can arrive for what is pending.
      this.failPending((type, id) => new BusRequestError(BusMessages.requestConnectionLost(type, id), 'bus_connection_lost'));
    });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.consume(queue, (message) => this.onReply(message), { noAck: true });
    this.replies = { channel, queue };
  }

  private onReply(message: ConsumeMessage | null): void {
    if (!message) return;
    const correlationId = message.properties.correlationId as string | undefined;
    if (!correlationId || !this.pending.has(correlationId)) return; // late reply of a timed-out request
    let reply: CommandReply<unknown>;
    try {
      reply = JSON.parse(message.content.toString('utf8')) as CommandReply<unknown>;
    } catch {
      reply = { ok: false, code: 'invalid_reply', message: 'Reply body is not JSON' };
    }
    const pending = this.pending.get(correlationId);
    this.pending.delete(correlationId);
    if (pending) {
      clearTimeout(pending.timer);
      pending.resolve(reply);
    }
  }

  private settle(correlationId: string, error: unknown): void {
    const pending = this.pending.get(correlationId);
    if (!pending) return;
    this.pending.delete(correlationId);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private failPending(makeError: (type: string, correlationId: string) => Error): void {
    for (const [id, pending] of [...this.pending]) this.settle(id, makeError(pending.type, id));
  }

  private async withinTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BusNotConnectedError(BusMessages.notConnected(this.connection.name, timeoutMs))), timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
