import type { Channel, Options } from 'amqplib';
import {
  BUS_DELIVERY_LIMIT,
  BUS_EXCHANGE,
  BUS_EXCHANGE_TYPE,
  BUS_PARKED_QUEUE_SEGMENT,
  BUS_QUEUE_PREFIX,
  BUS_RETRY_QUEUE_SEGMENT,
  BUS_SERVICE_NAME_PATTERN,
} from './bus.constants';
import { BusConfigurationError } from './bus.errors';
import { BusMessages } from './bus.messages';

/** Throws an actionable error unless `service` can name queues and inbox rows. */
export function assertServiceName(service: string): void {
  if (!BUS_SERVICE_NAME_PATTERN.test(service)) throw new BusConfigurationError(BusMessages.invalidServiceName(service));
}

/** Throws unless every delay is a positive whole number of milliseconds (they name queues and set their TTL). */
export function assertRetryDelays(delaysMs: readonly number[]): void {
  if (!delaysMs.every((d) => Number.isInteger(d) && d > 0)) throw new BusConfigurationError(BusMessages.invalidRetryDelays(delaysMs));
}

/** `rf.<service>`: the service's durable quorum queue, bound to the exchange by its handlers' patterns. */
export function serviceQueueName(service: string): string {
  return `${BUS_QUEUE_PREFIX}.${service}`;
}

/** `rf.<service>.retry.<delayMs>`: holds a failed message for `delayMs`, then dead-letters it back to `rf.<service>`. */
export function retryQueueName(service: string, delayMs: number): string {
  return `${serviceQueueName(service)}.${BUS_RETRY_QUEUE_SEGMENT}.${delayMs}`;
}

/** `rf.<service>.parked`: messages that will not be retried any more, with the error in their headers. */
export function parkedQueueName(service: string): string {
  return `${serviceQueueName(service)}.${BUS_PARKED_QUEUE_SEGMENT}`;
}

export function serviceQueueOptions(service: string): Options.AssertQueue {
  // Quorum: replicated, durable, and requeues keep their delivery count; the standard for work queues since 3.8.
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      // Poison-message guard: after BUS_DELIVERY_LIMIT redeliveries the broker moves the message to the parked queue.
      'x-delivery-limit': BUS_DELIVERY_LIMIT,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': parkedQueueName(service),
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  };
}

export function retryQueueOptions(service: string, delayMs: number): Options.AssertQueue {
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-message-ttl': delayMs,
      // Back through the default exchange straight to the service queue, so a retry never fans out to other services.
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': serviceQueueName(service),
      // At-least-once dead-lettering (3.10+): the expired message is only removed once the target queue confirmed it.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  };
}

export function parkedQueueOptions(): Options.AssertQueue {
  return { durable: true, arguments: { 'x-queue-type': 'quorum' } };
}

/** The part of the topology every publisher needs: the topic exchange. */
export async function assertExchange(channel: Channel): Promise<void> {
  await channel.assertExchange(BUS_EXCHANGE, BUS_EXCHANGE_TYPE, { durable: true });
}

export interface ServiceTopology {
  readonly service: string;
  /** Routing-key patterns of the service's handlers (`claim.created`, `claim.*`, `#`). */
  readonly patterns: readonly string[];
  readonly retryDelaysMs: readonly number[];
}

/**
 * Declares the exchange, the service queue with its bindings, one delay queue per retry delay, and the parked
 * queue. Idempotent: run on every (re)connect. Bindings are only added; a pattern whose handler was removed keeps
 * its binding until removed by hand (`rabbitmqctl` or the management UI), and its messages are parked as "no handler".
 */
export async function assertServiceTopology(channel: Channel, topology: ServiceTopology): Promise<void> {
  const queue = serviceQueueName(topology.service);
  await assertExchange(channel);
  await assertQueue(channel, parkedQueueName(topology.service), parkedQueueOptions());
  await assertQueue(channel, queue, serviceQueueOptions(topology.service));
  for (const pattern of new Set(topology.patterns)) {
    await channel.bindQueue(queue, BUS_EXCHANGE, pattern);
  }
  for (const delayMs of new Set(topology.retryDelaysMs)) {
    await assertQueue(channel, retryQueueName(topology.service, delayMs), retryQueueOptions(topology.service, delayMs));
  }
}

/** assertQueue, with an actionable error when the queue exists with other arguments (declared by an older version). */
async function assertQueue(channel: Channel, queue: string, options: Options.AssertQueue): Promise<void> {
  try {
    await channel.assertQueue(queue, options);
  } catch (error) {
    if ((error as { code?: unknown }).code === 406) throw new BusConfigurationError(BusMessages.queueArgumentsChanged(queue, String((error as Error).message)));
    throw error;
  }
}
