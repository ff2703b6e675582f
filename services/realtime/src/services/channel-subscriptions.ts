/** What ChannelSubscriptions needs from Redis. */
export interface ChannelSubscriber {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
}

interface ChannelState {
  count: number;
  /** Subscribe/unsubscribe calls of one channel run one after another, in call order. */
  queue: Promise<void>;
}

/**
 * Reference-counted Redis subscriptions: the first holder of a channel subscribes (and waits until Redis
 * confirmed), the last one to let go unsubscribes. Serialising per channel means a quick disconnect/reconnect
 * can never end unsubscribed.
 */
export class ChannelSubscriptions {
  private readonly channels = new Map<string, ChannelState>();

  constructor(private readonly subscriber: ChannelSubscriber) {}

  /** Resolves once the channel is subscribed; throws (holding nothing) when Redis refused. */
  async acquire(channel: string): Promise<void> {
    const state = this.state(channel);
    state.count++;
    if (state.count === 1) {
      state.queue = state.queue.catch(() => undefined).then(() => this.subscriber.subscribe(channel));
    }
    try {
      await state.queue;
    } catch (error) {
      this.release(channel);
      throw error;
    }
  }

  release(channel: string): void {
    const state = this.channels.get(channel);
    if (!state || state.count === 0) return;
    state.count--;
    if (state.count === 0) {
      const queue = state.queue
        .catch(() => undefined)
        .then(() => this.subscriber.unsubscribe(channel))
        .catch(() => undefined);
      state.queue = queue;
      void queue.then(() => {
        if (this.channels.get(channel) === state && state.count === 0 && state.queue === queue) this.channels.delete(channel);
      });
    }
  }

  /** Channels held by at least one connection. */
  held(): string[] {
    return [...this.channels.entries()].filter(([, s]) => s.count > 0).map(([c]) => c);
  }

  private state(channel: string): ChannelState {
    let state = this.channels.get(channel);
    if (!state) {
      state = { count: 0, queue: Promise.resolve() };
      this.channels.set(channel, state);
    }
    return state;
  }
}
