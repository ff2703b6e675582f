import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@rallyforge/service-kit';
import type Redis from 'ioredis';

export type ChannelMessageHandler = (channel: string, message: string) => void;

/**
 * Redis pub/sub of per-user channels (`t:<tenantId>:user:<userId>`): the instance that consumed an event
 * publishes it; every instance subscribes to the channels of the users connected to it, so the event reaches the
 * user's sockets wherever they are. Subscribing per connected user (not `PSUBSCRIBE t:*`) keeps each instance's
 * traffic proportional to its own users and works with per-tenant Redis ACLs (`&t:<id>:*`).
 */
@Injectable()
export class UserChannelRepository {
  private subscriber?: Redis;
  private handler?: ChannelMessageHandler;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Publishes to `channel`; resolves to the number of instances subscribed to it. */
  publish(channel: string, message: string): Promise<number> {
    return this.redis.publish(channel, message);
  }

  /** Where messages of subscribed channels go (one handler per instance). */
  onMessage(handler: ChannelMessageHandler): void {
    this.handler = handler;
  }

  /** Resolves once Redis confirmed the subscription: events published afterwards are received. */
  async subscribe(channel: string): Promise<void> {
    await this.connection().subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (this.subscriber) await this.subscriber.unsubscribe(channel);
  }

  /** Closes the subscriber connection (the shared client is closed by the kit). */
  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    try {
      await subscriber.quit();
    } catch {
      // already closed or unreachable
    } finally {
      subscriber.disconnect();
    }
  }

  /** A connection in subscriber mode can run no other command, hence a dedicated one, opened on first use. */
  private connection(): Redis {
    if (!this.subscriber) {
      const subscriber = this.redis.duplicate();
      // ioredis resubscribes after a reconnect by itself (autoResubscribe); errors are reported by the shared client.
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string, message: string) => this.handler?.(channel, message));
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }
}
