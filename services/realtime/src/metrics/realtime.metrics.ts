import { Injectable } from '@nestjs/common';
import { MetricsService } from '@rallyforge/service-kit';
import { Counter, Gauge } from 'prom-client';

/** The realtime service's own metrics, in the app's registry (served at /metrics with the kit's). */
@Injectable()
export class RealtimeMetrics {
  /** Open WebSocket connections on this instance. */
  readonly connections: Gauge;
  /** Messages written to sockets, by event type. */
  readonly messagesSent: Counter<'type'>;
  /** Upgrade requests refused before the handshake, by reason (unauthenticated, too_many, origin, not_found, unavailable). */
  readonly connectionsRefused: Counter<'reason'>;
  /** Events taken from the bus and published to a user's Redis channel, by type. */
  readonly eventsForwarded: Counter<'type'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.connections = new Gauge({ name: 'realtime_connections', help: 'Open WebSocket connections on this instance', registers });
    this.messagesSent = new Counter({
      name: 'realtime_messages_sent_total',
      help: 'Messages written to WebSocket connections, by event type',
      labelNames: ['type'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'realtime_connections_refused_total',
      help: 'WebSocket upgrades refused before the handshake, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.eventsForwarded = new Counter({
      name: 'realtime_events_forwarded_total',
      help: "Bus events published to a user's Redis channel, by event type",
      labelNames: ['type'],
      registers,
    });
  }
}
