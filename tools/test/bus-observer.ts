import { connect, type Channel, type ChannelModel } from 'amqplib';
import type { Envelope } from '@rallyforge/contracts';
import { BUS_EXCHANGE, BUS_EXCHANGE_TYPE } from '@rallyforge/bus';

/**
 * A test queue bound to the events exchange of a (fresh) vhost: records every envelope routed to it, and can
 * publish raw messages as another service would.
 */
export class BusObserver {
  readonly received: Envelope[] = [];

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async start(amqpUrl: string, patterns: string[]): Promise<BusObserver> {
    const model = await connect(amqpUrl);
    const channel = await model.createChannel();
    await channel.assertExchange(BUS_EXCHANGE, BUS_EXCHANGE_TYPE, { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const pattern of patterns) await channel.bindQueue(queue, BUS_EXCHANGE, pattern);
    const observer = new BusObserver(model, channel);
    await channel.consume(queue, (message) => {
      if (message) observer.received.push(JSON.parse(message.content.toString('utf8')) as Envelope);
    }, { noAck: true });
    return observer;
  }

  /** Waits until a received envelope matches, or fails after `timeoutMs`. */
  async waitFor(predicate: (envelope: Envelope) => boolean, timeoutMs = 15_000): Promise<Envelope> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`No matching message within ${timeoutMs} ms; received: ${this.received.map((e) => e.type).join(', ') || 'nothing'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  of(type: string): Envelope[] {
    return this.received.filter((e) => e.type === type);
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }
}
