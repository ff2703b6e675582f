/**
 * Every default of the bus in one place (nest's `RQM_DEFAULT_*` idea), so a reader can see what the transport
 * does without reading it and a test can refer to the same values.
 */

/** The one topic exchange every event and command is published on. Routing key = message type. */
export const BUS_EXCHANGE = 'rallyforge.events';
export const BUS_EXCHANGE_TYPE = 'topic';

/** Queue names are `rf.<service>`, `rf.<service>.retry.<delayMs>` and `rf.<service>.parked`. */
export const BUS_QUEUE_PREFIX = 'rf';
export const BUS_RETRY_QUEUE_SEGMENT = 'retry';
export const BUS_PARKED_QUEUE_SEGMENT = 'parked';

/** Service names become queue names and inbox keys: short DNS-label-like names only. */
export const BUS_SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** Unacked deliveries per consumer: bounds memory and parallel handlers (and DB connections) per service. */
export const BUS_DEFAULT_PREFETCH = 32;
/**
 * Deliveries of one message from the service queue before RabbitMQ parks it itself. Normal failures are handled
 * by the retry path (ack + republish), so only poison messages hit this: a message whose handler kills the
 * process or the connection every time would otherwise be redelivered forever.
 */
export const BUS_DELIVERY_LIMIT = 20;
/**
 * Events handled per inbox transaction (those delivered in the same turn of the event loop). The consumer is
 * bound by database round trips; sharing BEGIN, the inbox insert and COMMIT across a batch cuts them about four-fold.
 */
export const BUS_DEFAULT_INBOX_BATCH_SIZE = 16;
/** Delays of the delayed retries; after the last one the message is parked. */
export const BUS_DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 5000, 30000];
/** How long `close()` waits for in-flight handlers before closing the channel anyway. */
export const BUS_DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Request/reply: how long a caller waits for the reply. */
export const BUS_DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** How long a direct publish waits for a connection and for the broker's confirm. */
export const BUS_DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

/** AMQP heartbeat: a dead TCP connection (broker host gone) is noticed within about two intervals. */
export const BUS_DEFAULT_HEARTBEAT_SECONDS = 10;
/** Reconnect backoff: 250 ms doubling, capped at 10 s, with jitter so replicas do not reconnect in lockstep. */
export const BUS_DEFAULT_RECONNECT_INITIAL_DELAY_MS = 250;
export const BUS_DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
export const BUS_DEFAULT_RECONNECT_FACTOR = 2;

/** Outbox relay: rows per batch (one transaction, one confirm wait). */
export const OUTBOX_DEFAULT_BATCH_SIZE = 500;
/** Outbox relay: polling fallback when no wake-up (commit hook or NOTIFY) arrives. */
export const OUTBOX_DEFAULT_POLL_INTERVAL_MS = 1000;
/** Outbox relay: how long to keep sent rows (diagnostics) before the housekeeping deletes them. */
export const OUTBOX_DEFAULT_RETENTION_MS = 60 * 60 * 1000;
/** Outbox relay: how often the pending gauge is refreshed and a lost LISTEN connection re-opened. */
export const OUTBOX_DEFAULT_HOUSEKEEPING_INTERVAL_MS = 5_000;
/** Outbox relay: how often sent rows past their retention are deleted. */
export const OUTBOX_DEFAULT_CLEANUP_INTERVAL_MS = 60_000;
/** Outbox relay: rows deleted per housekeeping statement (keeps the delete short). */
export const OUTBOX_CLEANUP_BATCH_SIZE = 5000;
/** Outbox relay: backoff after a failed batch (broker or database down). */
export const OUTBOX_DEFAULT_FAILURE_INITIAL_DELAY_MS = 250;
export const OUTBOX_DEFAULT_FAILURE_MAX_DELAY_MS = 10_000;
/** Outbox: a single row that keeps failing is pushed back by this much per attempt (capped), so it cannot block the rest. */
export const OUTBOX_ROW_RETRY_BASE_MS = 1000;
export const OUTBOX_ROW_RETRY_MAX_MS = 60_000;
/** PostgreSQL NOTIFY channel raised by the `bus_outbox` insert trigger. */
export const OUTBOX_NOTIFY_CHANNEL = 'bus_outbox';

/** Inbox rows older than this are deleted: the window in which a redelivered message is still recognised. */
export const INBOX_DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
export const INBOX_DEFAULT_CLEANUP_INTERVAL_MS = 10 * 60 * 1000;
export const INBOX_CLEANUP_BATCH_SIZE = 5000;

export const OUTBOX_TABLE = 'bus_outbox';
export const INBOX_TABLE = 'bus_inbox';

/** Error headers are kept short: RabbitMQ limits frame sizes and parked messages should stay readable. */
export const BUS_MAX_ERROR_LENGTH = 2000;

/** Headers the bus adds besides the shared `BusHeaders` of the contracts. */
export const BusInternalHeaders = {
  /** Why a message was parked: `rejected` (invalid, never retried) or `failed` (handler failed on every attempt). */
  parkReason: 'x-rf-park-reason',
  /** Set when the parked tool moves a message back; the attempt counter starts again. */
  replayedAt: 'x-rf-replayed-at',
} as const;

/** Headers RabbitMQ adds on dead-lettering; stripped on republish so they do not grow with every retry. */
export const BROKER_DEATH_HEADERS = ['x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-last-death-exchange', 'x-last-death-queue', 'x-last-death-reason'];

export const BUS_CONTENT_TYPE = 'application/json';
export const BUS_TRANSPORT_ID = Symbol('RallyForgeBus');
export const BUS_TRACER_NAME = '@rallyforge/bus';
