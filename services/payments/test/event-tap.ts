import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';

const EXCHANGE = 'rallyforge.events';

/** A throw-away queue bound to the events exchange: what a consumer of the published events would see. */
export class EventTap {
  readonly messages: ConsumeMessage[] = [];

  private constructor(private readonly connection: ChannelModel) {}

  static async start(url: string, patterns: string[]): Promise<EventTap> {
    const connection = await connect(url);
    const channel = await connection.createChannel();
    await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const pattern of patterns) await channel.bindQueue(queue, EXCHANGE, pattern);
    const tap = new EventTap(connection);
    await channel.consume(queue, (message) => message && tap.messages.push(message), { noAck: true });
    return tap;
  }

  /** Bodies (parsed envelopes) of the messages received so far. */
  envelopes<T = Record<string, unknown>>(): T[] {
    return this.messages.map((m) => JSON.parse(m.content.toString('utf8')) as T);
  }

  /** Waits until `predicate` holds for some received message, or fails after `timeoutMs`. */
  async waitFor(predicate: (envelope: Record<string, unknown>, message: ConsumeMessage) => boolean, timeoutMs = 10_000): Promise<ConsumeMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => predicate(JSON.parse(m.content.toString('utf8')) as Record<string, unknown>, m));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No matching message within ${timeoutMs} ms (received ${this.messages.length})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
