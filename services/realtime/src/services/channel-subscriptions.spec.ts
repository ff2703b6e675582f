import { ChannelSubscriptions, type ChannelSubscriber } from './channel-subscriptions';

function recorder() {
  const calls: string[] = [];
  const subscriber: ChannelSubscriber & { failNext?: boolean } = {
    async subscribe(channel) {
      await Promise.resolve();
      if (subscriber.failNext) {
        subscriber.failNext = false;
        throw new Error('redis down');
      }
      calls.push(`sub ${channel}`);
    },
    async unsubscribe(channel) {
      await Promise.resolve();
      calls.push(`unsub ${channel}`);
    },
  };
  return { calls, subscriber };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ChannelSubscriptions', () => {
  it('subscribes for the first holder and unsubscribes after the last', async () => {
    const { calls, subscriber } = recorder();
    const subs = new ChannelSubscriptions(subscriber);
    await subs.acquire('c');
    await subs.acquire('c');
    subs.release('c');
    await settle();
    expect(calls).toEqual(['sub c']);
    subs.release('c');
    await settle();
    expect(calls).toEqual(['sub c', 'unsub c']);
    expect(subs.held()).toEqual([]);
  });

  it('keeps order on a quick release and re-acquire, ending subscribed', async () => {
    const { calls, subscriber } = recorder();
    const subs = new ChannelSubscriptions(subscriber);
    await subs.acquire('c');
    subs.release('c');
    await subs.acquire('c');
    await settle();
    expect(calls).toEqual(['sub c', 'unsub c', 'sub c']);
    expect(subs.held()).toEqual(['c']);
  });

  it('holds nothing when Redis refused the subscription, and tries again next time', async () => {
    const { calls, subscriber } = recorder();
    const subs = new ChannelSubscriptions(subscriber);
    subscriber.failNext = true;
    await expect(subs.acquire('c')).rejects.toThrow('redis down');
    expect(subs.held()).toEqual([]);
    await subs.acquire('c');
    expect(calls).toContain('sub c');
    expect(subs.held()).toEqual(['c']);
  });

  it('ignores releases of channels it does not hold', () => {
    const { subscriber } = recorder();
    expect(() => new ChannelSubscriptions(subscriber).release('nope')).not.toThrow();
  });
});
