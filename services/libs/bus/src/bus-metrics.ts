import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';

/** How a consumed message ended. */
export type ConsumeOutcome =
  /** Handled and acknowledged. */
  | 'ack'
  /** Handler failed; republished to a delay queue. */
  | 'retry'
  /** Handler failed on the last attempt; moved to the parked queue. */
  | 'park'
  /** Already in the inbox: acknowledged without calling the handler. */
  | 'duplicate'
  /** Refused without retries: invalid/unknown message or tenant mismatch (parked), or a request answered with an error. */
  | 'rejected';

const cache = new WeakMap<Registry, BusMetrics>();

/**
 * The bus's Prometheus metrics. One instance per registry: servers, clients and relays that share a registry
 * share the metrics (a second registration of the same name would throw).
 */
export class BusMetrics {
  /** 1 while the named connection is connected (and its channels set up), else 0. */
  readonly connectionUp: Gauge<'connection'>;
  readonly published: Counter<'type'>;
  readonly consumed: Counter<'type' | 'outcome'>;
  readonly handlerDuration: Histogram<'type'>;
  readonly outboxPending: Gauge;

  private constructor(registry: Registry) {
    const registers = [registry];
    this.connectionUp = new Gauge({
      name: 'bus_connection_up',
      help: 'Whether the bus connection to RabbitMQ is up (1) or not (0)',
      labelNames: ['connection'],
      registers,
    });
    this.published = new Counter({
      name: 'bus_messages_published_total',
      help: 'Messages published to the bus and confirmed by RabbitMQ',
      labelNames: ['type'],
      registers,
    });
    this.consumed = new Counter({
      name: 'bus_messages_consumed_total',
      help: 'Messages consumed from the bus, by outcome (ack, retry, park, duplicate, rejected)',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.handlerDuration = new Histogram({
      name: 'bus_handler_duration_seconds',
      help: 'Time from delivery to settlement of a bus message, including the inbox transaction',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.outboxPending = new Gauge({
      name: 'bus_outbox_pending',
      help: 'Outbox rows not yet confirmed by RabbitMQ',
      registers,
    });
  }

  /** The metrics registered in `registry` (prom-client's global registry by default). */
  static for(registry: Registry = globalRegistry): BusMetrics {
    let metrics = cache.get(registry);
    if (!metrics) {
      metrics = new BusMetrics(registry);
      cache.set(registry, metrics);
    }
    return metrics;
  }
}
