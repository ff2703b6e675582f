import { once } from 'node:events';
import { Logger, type LoggerService } from '@nestjs/common';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { BUS_DEFAULT_PUBLISH_TIMEOUT_MS } from './bus.constants';
import { BusNotConnectedError } from './bus.errors';
import { BusMessages } from './bus.messages';
import type { BusConnection, SetupRegistration } from './bus-connection';
import type { OutgoingMessage } from './message-envelope';
import { describeError } from './message-headers';
import { assertExchange } from './topology';

/** Outcome of one message of a batch. */
export interface PublishResult {
  readonly messageId: string;
  /** RabbitMQ confirmed the message (it is durable in every queue it was routed to). */
  readonly ok: boolean;
  /** `mandatory` message that reached no queue (it was still confirmed; nobody will receive it). */
  readonly returned: boolean;
  readonly error?: string;
}

export interface ConfirmPublisherOptions {
  /** Who uses the channel, for logs (e.g. `outbox relay of claims`). */
  readonly owner: string;
  readonly logger?: LoggerService;
}

/**
 * Publishes over a confirm channel of a `BusConnection` (re-created on every reconnect): a batch is written
 * out at once (respecting the socket's back-pressure) and then its confirms are awaited together, which is what
 * makes the outbox relay fast. Never throws for a single message: each gets a `PublishResult`.
 */
export class ConfirmPublisher {
  private channel?: ConfirmChannel;
  private registration?: SetupRegistration;
  private readonly returnedIds = new Set<string>();
  private readonly logger: LoggerService;

  constructor(
    private readonly connection: BusConnection,
    private readonly options: ConfirmPublisherOptions,
  ) {
    this.logger = options.logger ?? new Logger(ConfirmPublisher.name);
  }

  /** Opens the confirm channel now if connected, and on every reconnect. Resolves once the channel is open. */
  start(): Promise<void> {
    if (!this.registration) {
      const registration = this.connection.addSetup((model) => this.openChannel(model));
      this.registration = registration;
      // A first setup that failed is dropped by the connection: let the next start() register again.
      registration.ready.catch(() => {
        if (this.registration === registration) this.registration = undefined;
      });
    }
    return this.registration.ready;
  }

  async stop(): Promise<void> {
    this.registration?.remove();
    this.registration = undefined;
    const channel = this.channel;
    this.channel = undefined;
    if (channel) await channel.close().catch(() => undefined);
  }

  /** Publishes one message and throws unless it was confirmed. */
  async publishOne(message: OutgoingMessage, timeoutMs = BUS_DEFAULT_PUBLISH_TIMEOUT_MS): Promise<PublishResult> {
    const [result] = await this.publish([message], timeoutMs);
    if (!result.ok) throw new BusNotConnectedError(result.error ?? BusMessages.publishTimedOut(1, timeoutMs));
    return result;
  }

  /**
   * Publishes `messages` in order and waits for all confirms, at most `timeoutMs` in total. Throws
   * `BusNotConnectedError` only if no channel became available in time; per-message failures are in the results.
   */
  async publish(messages: readonly OutgoingMessage[], timeoutMs = BUS_DEFAULT_PUBLISH_TIMEOUT_MS): Promise<PublishResult[]> {
    if (messages.length === 0) return [];
    const deadline = Date.now() + timeoutMs;
    const channel = await this.waitForChannel(timeoutMs);
    const pending: Promise<PublishResult>[] = [];
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index];
      const messageId = message.options.messageId;
      let flushed = true;
      try {
        pending.push(
          new Promise<PublishResult>((resolve) => {
            flushed = channel.publish(message.exchange, message.routingKey, message.content, message.options, (error: unknown) => {
              const returned = this.returnedIds.delete(messageId);
              resolve(error ? { messageId, ok: false, returned, error: describeError(error) } : { messageId, ok: true, returned });
            });
          }),
        );
      } catch (error) {
        // The channel closed under us: this and every later message of the batch failed.
        for (const rest of messages.slice(index)) {
          pending.push(Promise.resolve({ messageId: rest.options.messageId, ok: false, returned: false, error: describeError(error) }));
        }
        break;
      }
      if (!flushed) await this.drained(channel, deadline);
    }
    return this.settleBefore(pending, messages, deadline, timeoutMs);
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    channel.on('return', (message: Message) => {
      const id = message.properties.messageId as string | undefined;
      if (id) this.returnedIds.add(id);
    });
    // 'error' is only emitted when the broker closed the channel for a protocol error; a lost connection closes
    // channels without it. A dead publishing channel is recovered by recycling the connection.
    channel.on('error', (error: unknown) => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.logger.error(BusMessages.channelClosedUnexpectedly(this.options.owner, describeError(error)));
      this.connection.recover(describeError(error));
    });
    channel.on('close', () => {
      if (this.channel !== channel) return;
      this.channel = undefined;
      this.returnedIds.clear(); // returns belong to the channel; their confirms will never come
    });
    await assertExchange(channel);
    this.channel = channel;
  }

  private async waitForChannel(timeoutMs: number): Promise<ConfirmChannel> {
    if (!this.registration) await this.start().catch(() => undefined);
    await this.connection.waitUntilConnected(timeoutMs);
    if (!this.channel) throw new BusNotConnectedError(BusMessages.notConnected(this.connection.name, timeoutMs));
    return this.channel;
  }

  private async drained(channel: ConfirmChannel, deadline: number): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      await Promise.race([once(channel, 'drain', { signal: abort.signal }), once(channel, 'close', { signal: abort.signal })]);
    } catch {
      // Deadline reached: the confirms below will time out and report it.
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  private async settleBefore(
    pending: Promise<PublishResult>[],
    messages: readonly OutgoingMessage[],
    deadline: number,
    timeoutMs: number,
  ): Promise<PublishResult[]> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    const results: Array<PublishResult | undefined> = new Array(pending.length);
    const all = Promise.all(pending.map((p, i) => p.then((r) => (results[i] = r))));
    const outcome = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return results as PublishResult[];
    const error = BusMessages.publishTimedOut(pending.length - results.filter(Boolean).length, timeoutMs);
    return pending.map((_, i) => results[i] ?? { messageId: messages[i].options.messageId, ok: false, returned: false, error });
  }
}
