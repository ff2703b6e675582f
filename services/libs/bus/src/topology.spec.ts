import { BusConfigurationError } from './bus.errors';
import {
  assertRetryDelays,
  assertServiceName,
  parkedQueueName,
  parkedQueueOptions,
  retryQueueName,
  retryQueueOptions,
  serviceQueueName,
  serviceQueueOptions,
} from './topology';

describe('topology naming', () => {
  it('names the queues of a service as documented in docs/architecture.md', () => {
    expect(serviceQueueName('claims')).toBe('rf.claims');
    expect(retryQueueName('claims', 5000)).toBe('rf.claims.retry.5000');
    expect(parkedQueueName('claims')).toBe('rf.claims.parked');
  });

  it('makes every queue a durable quorum queue', () => {
    for (const options of [serviceQueueOptions('claims'), retryQueueOptions('claims', 1000), parkedQueueOptions()]) {
      expect(options.durable).toBe(true);
      expect(options.arguments['x-queue-type']).toBe('quorum');
    }
  });

  it('lets the broker park a poison message after the delivery limit', () => {
    const args = serviceQueueOptions('claims').arguments;
    expect(args['x-delivery-limit']).toBe(20);
    expect(args['x-dead-letter-exchange']).toBe('');
    expect(args['x-dead-letter-routing-key']).toBe('rf.claims.parked');
  });

  it('dead-letters an expired retry straight back to the service queue, never through the topic exchange', () => {
    const args = retryQueueOptions('claims', 5000).arguments;
    expect(args['x-message-ttl']).toBe(5000);
    expect(args['x-dead-letter-exchange']).toBe('');
    expect(args['x-dead-letter-routing-key']).toBe('rf.claims');
    expect(args['x-dead-letter-strategy']).toBe('at-least-once');
  });
});

describe('topology validation', () => {
  it.each(['claims', 'auth', 'bus-test-1'])('accepts service name %s', (name) => {
    expect(() => assertServiceName(name)).not.toThrow();
  });

  it.each(['', 'Claims', 'claims.v2', '1claims', 'rf claims'])('refuses service name "%s" with a fix in the message', (name) => {
    expect(() => assertServiceName(name)).toThrow(BusConfigurationError);
    expect(() => assertServiceName(name)).toThrow(/lower-case letters, digits and dashes/);
  });

  it('refuses retry delays that cannot name a queue or set a TTL', () => {
    expect(() => assertRetryDelays([1000, 5000])).not.toThrow();
    expect(() => assertRetryDelays([])).not.toThrow();
    expect(() => assertRetryDelays([0])).toThrow(/positive whole milliseconds/);
    expect(() => assertRetryDelays([1.5])).toThrow(BusConfigurationError);
  });
});
