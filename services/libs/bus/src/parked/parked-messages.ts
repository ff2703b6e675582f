import { BusHeaders } from '@rallyforge/contracts';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { BUS_CONTENT_TYPE, BusInternalHeaders } from '../bus.constants';
import { readAttempt, readStringHeader, replayedHeaders } from '../message-headers';
import { assertServiceName, parkedQueueName, serviceQueueName } from '../topology';

/** A parked message as the operator sees it. */
export interface ParkedMessage {
  readonly messageId: string;
  readonly type: string;
  readonly tenantId: string;
  /** Attempts made before parking (1 for a message rejected at once). */
  readonly attempts: number;
  readonly error: string;
  /** `rejected` (invalid, never retried) or `failed` (handler failed every attempt). */
  readonly reason: string;
  readonly parkedAt: string;
  readonly originalRoutingKey: string;
  /** The body (the envelope), parsed when it is JSON. */
  readonly body: unknown;
}

export interface ReplayOptions {
  /** Replay only this message id. */
  readonly messageId?: string;
  /** Replay everything parked (required when no id is given, so a typo cannot replay everything). */
  readonly all?: boolean;
}

/** Confirms are awaited per this many republished messages before their parked copies are acked. */
const REPLAY_BATCH = 100;

/**
 * Lists and replays the parked messages of a service (`rf.<service>.parked`), over AMQP only. Listing takes the
 * messages without acking and returns them all to the queue when done. Replay republishes to `rf.<service>`
 * through the default exchange (no fan-out to other services) with the attempt counter reset, waits for the
 * confirms, and only then removes the parked copies.
 */
export class ParkedMessages {
  private constructor(
    private readonly model: ChannelModel,
    private readonly owned: boolean,
  ) {}

  /** Connects to `url` for a one-off operator session (fails fast when the broker is down). */
  static async connect(url: string): Promise<ParkedMessages> {
    const model = await connect(url, { clientProperties: { connection_name: 'rallyforge-bus-parked' } });
    model.on('error', () => undefined);
    return new ParkedMessages(model, true);
  }

  /** Uses an existing amqplib connection (not closed by `close()`). */
  static using(model: ChannelModel): ParkedMessages {
    return new ParkedMessages(model, false);
  }

  async close(): Promise<void> {
    if (this.owned) await this.model.close().catch(() => undefined);
  }

  /** Up to `limit` parked messages, oldest first; the queue is left as it was. */
  async list(service: string, limit = 100): Promise<ParkedMessage[]> {
    assertServiceName(service);
    const queue = parkedQueueName(service);
    const channel = await this.model.createChannel();
    try {
      const messageCount = await countMessages(channel, queue, service);
      const parked: ParkedMessage[] = [];
      const taken: GetMessage[] = [];
      for (let i = 0; i < Math.min(limit, messageCount); i++) {
        const message = await channel.get(queue, { noAck: false });
        if (!message) break;
        taken.push(message);
        parked.push(describe(message));
      }
      await putBack(channel, queue, taken, messageCount);
      return parked;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Moves the selected parked messages back to `rf.<service>`; returns the ids replayed. */
  async replay(service: string, options: ReplayOptions): Promise<string[]> {
    assertServiceName(service);
    if (!options.all && !options.messageId) throw new Error('Say what to replay: { messageId } for one message or { all: true } for every parked message');
    const source = parkedQueueName(service);
    const target = serviceQueueName(service);
    const channel = await this.model.createConfirmChannel();
    const replayed: string[] = [];
    try {
      const messageCount = await countMessages(channel, source, service);
      let batch: GetMessage[] = [];
      const skipped: GetMessage[] = [];
      for (let i = 0; i < messageCount; i++) {
        const message = await channel.get(source, { noAck: false });
        if (!message) break;
        const id = String(message.properties.messageId ?? '');
        if (!options.all && id !== options.messageId) {
          skipped.push(message); // goes back to the parked queue below
          continue;
        }
        channel.sendToQueue(target, message.content, {
          persistent: true,
          messageId: id || undefined,
          contentType: message.properties.contentType ?? BUS_CONTENT_TYPE,
          type: message.properties.type,
          timestamp: message.properties.timestamp,
          appId: message.properties.appId,
          headers: replayedHeaders(message.properties.headers, new Date()),
        });
        batch.push(message);
        if (batch.length >= REPLAY_BATCH) batch = await this.commit(channel, batch, replayed);
        if (!options.all) break;
      }
      await this.commit(channel, batch, replayed);
      await putBack(channel, source, skipped, messageCount - replayed.length);
      return replayed;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  private async commit(channel: ConfirmChannel, batch: GetMessage[], replayed: string[]): Promise<GetMessage[]> {
    if (batch.length === 0) return [];
    await channel.waitForConfirms();
    for (const message of batch) {
      channel.ack(message);
      replayed.push(String(message.properties.messageId ?? ''));
    }
    return [];
  }
}

/** How long `putBack` waits for returned messages to be visible again. */
const PUT_BACK_SETTLE_MS = 5000;

/**
 * Returns messages taken for inspection to the queue and waits (bounded) until the queue shows them again: a
 * quorum queue applies returns asynchronously, and an operator's next `list` right after should see them.
 */
async function putBack(channel: Channel, queue: string, messages: GetMessage[], expectedCount: number): Promise<void> {
  for (const message of messages) channel.nack(message, false, true);
  if (messages.length === 0) return;
  const deadline = Date.now() + PUT_BACK_SETTLE_MS;
  while (Date.now() < deadline) {
    if ((await channel.checkQueue(queue)).messageCount >= expectedCount) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Message count of `queue`, with an explanation instead of amqplib's NOT_FOUND channel error. */
async function countMessages(channel: Channel, queue: string, service: string): Promise<number> {
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) {
      throw new Error(`There is no queue ${queue} on this broker/vhost: service "${service}" has never consumed here (check the service name and AMQP_URL)`);
    }
    throw error;
  }
}

/**
 * Why the broker dead-lettered a message into the parked queue itself (`delivery_limit` of the service queue),
 * from the newest `x-death` entry. Undefined for messages the consumer parked (it drops `x-death` on republish).
 */
function lastDeathReason(headers: Record<string, unknown> | undefined): string | undefined {
  const deaths = headers?.['x-death'];
  if (Array.isArray(deaths) && deaths.length > 0) {
    const reason = (deaths[0] as { reason?: unknown }).reason;
    if (reason !== undefined) return Buffer.isBuffer(reason) ? reason.toString('utf8') : String(reason);
  }
  return readStringHeader(headers, 'x-first-death-reason');
}

function describe(message: GetMessage): ParkedMessage {
  const headers = message.properties.headers;
  let body: unknown;
  try {
    body = JSON.parse(message.content.toString('utf8'));
  } catch {
    body = message.content.toString('utf8');
  }
  const brokerReason = lastDeathReason(headers);
  const envelope = typeof body === 'object' && body !== null ? (body as { type?: unknown; tenantId?: unknown }) : {};
  return {
    messageId: String(message.properties.messageId ?? ''),
    type: readStringHeader(headers, BusHeaders.messageType) ?? String(envelope.type ?? message.properties.type ?? 'unknown'),
    tenantId: readStringHeader(headers, BusHeaders.tenantId) ?? String(envelope.tenantId ?? ''),
    attempts: readAttempt(headers),
    error: readStringHeader(headers, BusHeaders.error) ?? (brokerReason ? `Dead-lettered by RabbitMQ (${brokerReason})` : ''),
    reason: readStringHeader(headers, BusInternalHeaders.parkReason) ?? (brokerReason ? `broker:${brokerReason}` : ''),
    parkedAt: readStringHeader(headers, BusHeaders.parkedAt) ?? '',
    originalRoutingKey: readStringHeader(headers, BusHeaders.originalRoutingKey) ?? '',
    body,
  };
}
