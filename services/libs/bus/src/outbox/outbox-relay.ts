import { Logger, type LoggerService } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { Backoff, sleep } from '../backoff';
import {
  BUS_DEFAULT_PUBLISH_TIMEOUT_MS,
  OUTBOX_CLEANUP_BATCH_SIZE,
  OUTBOX_DEFAULT_BATCH_SIZE,
  OUTBOX_DEFAULT_CLEANUP_INTERVAL_MS,
  OUTBOX_DEFAULT_FAILURE_INITIAL_DELAY_MS,
  OUTBOX_DEFAULT_FAILURE_MAX_DELAY_MS,
  OUTBOX_DEFAULT_HOUSEKEEPING_INTERVAL_MS,
  OUTBOX_DEFAULT_POLL_INTERVAL_MS,
  OUTBOX_DEFAULT_RETENTION_MS,
  OUTBOX_NOTIFY_CHANNEL,
} from '../bus.constants';
import { BusPublishError } from '../bus.errors';
import { BusMessages } from '../bus.messages';
import type { BusConnection } from '../bus-connection';
import { BusMetrics } from '../bus-metrics';
import { ConfirmPublisher } from '../confirm-publisher';
import { toOutgoingMessage } from '../message-envelope';
import { describeError } from '../message-headers';
import { onOutboxCommitted } from './outbox-commit-hook';
import { OutboxRepository } from './outbox.repository';

export interface OutboxRelayOptions {
  /** The service's DataSource (the database holding `bus_outbox`). */
  readonly dataSource: DataSource;
  readonly connection: BusConnection;
  /** Service name, sent as the AMQP `app-id`. */
  readonly service?: string;
  /** Rows per batch (one transaction, one confirm wait). @default OUTBOX_DEFAULT_BATCH_SIZE (500) */
  readonly batchSize?: number;
  /** Polling fallback when no wake-up arrives. @default OUTBOX_DEFAULT_POLL_INTERVAL_MS (1000) */
  readonly pollIntervalMs?: number;
  /** LISTEN for the insert trigger's NOTIFY on a dedicated connection (wakes relays of other processes). @default true */
  readonly listen?: boolean;
  /** How long sent rows are kept. @default OUTBOX_DEFAULT_RETENTION_MS (1 h) */
  readonly retentionMs?: number;
  /** @default OUTBOX_DEFAULT_HOUSEKEEPING_INTERVAL_MS (5 s) */
  readonly housekeepingIntervalMs?: number;
  /** @default BUS_DEFAULT_PUBLISH_TIMEOUT_MS (10 s) */
  readonly publishTimeoutMs?: number;
  /** @default prom-client's global registry */
  readonly registry?: Registry;
  readonly logger?: LoggerService;
}

/**
 * Publishes pending `bus_outbox` rows after their transaction committed: lock a batch (FOR UPDATE SKIP LOCKED,
 * so replicas relay concurrently), publish it, await the confirms, mark the confirmed rows sent, commit.
 * Woken by the in-process commit hook, by NOTIFY from the insert trigger, and by a polling fallback. While the
 * broker (or the database) is down rows stay pending and batches are retried with capped backoff; a row that
 * fails on its own is pushed back so it cannot block the others. At-least-once: a crash between confirm and
 * commit republishes the batch, which consumers' inboxes absorb.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly publishTimeoutMs: number;
  private readonly publisher: ConfirmPublisher;
  private readonly metrics: BusMetrics;
  private readonly logger: LoggerService;
  private readonly failureBackoff = new Backoff({
    initialDelayMs: OUTBOX_DEFAULT_FAILURE_INITIAL_DELAY_MS,
    maxDelayMs: OUTBOX_DEFAULT_FAILURE_MAX_DELAY_MS,
  });
  private stopSignal?: AbortController;
  private loop?: Promise<void>;
  private wakePending = false;
  private wakeWaiter?: () => void;
  private unsubscribers: Array<() => void> = [];
  private housekeepingTimer?: NodeJS.Timeout;
  private lastCleanupAt = 0;
  private listener?: Client;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? OUTBOX_DEFAULT_BATCH_SIZE;
    this.pollIntervalMs = options.pollIntervalMs ?? OUTBOX_DEFAULT_POLL_INTERVAL_MS;
    this.publishTimeoutMs = options.publishTimeoutMs ?? BUS_DEFAULT_PUBLISH_TIMEOUT_MS;
    this.metrics = BusMetrics.for(options.registry);
    this.logger = options.logger ?? new Logger(OutboxRelay.name);
    this.publisher = new ConfirmPublisher(options.connection, { owner: `outbox relay${options.service ? ` of ${options.service}` : ''}`, logger: this.logger });
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Starts relaying in the background (idempotent). Does not wait for the broker. */
  start(): void {
    if (this.loop) return;
    this.stopSignal = new AbortController();
    this.options.connection.start();
    void this.publisher.start();
    this.unsubscribers = [
      onOutboxCommitted(this.options.dataSource, () => this.wakeUp()),
      this.onConnected(() => this.wakeUp()),
    ];
    if (this.options.listen ?? true) void this.ensureListener();
    const interval = this.options.housekeepingIntervalMs ?? OUTBOX_DEFAULT_HOUSEKEEPING_INTERVAL_MS;
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), interval);
    this.housekeepingTimer.unref();
    this.loop = this.run(this.stopSignal.signal);
  }

  /** Stops after the batch in flight (its rows are either marked sent or stay pending). */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopSignal?.abort();
    this.wakeUp();
    clearInterval(this.housekeepingTimer);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    await this.loop;
    this.loop = undefined;
    await this.closeListener();
    await this.publisher.stop();
  }

  /** Asks for a batch now (coalesced: many wake-ups during a batch cause one more batch). */
  wakeUp(): void {
    this.wakePending = true;
    const waiter = this.wakeWaiter;
    this.wakeWaiter = undefined;
    waiter?.();
  }

  /**
   * Relays one batch and returns how many rows it took. Throws if the batch failed as a whole (database or broker
   * unavailable) or if some of its messages were not confirmed (those rows were pushed back).
   */
  async relayOnce(): Promise<number> {
    this.wakePending = false;
    const runner = this.options.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const rows = await OutboxRepository.lockPending(runner, this.batchSize);
      if (rows.length === 0) {
        await runner.commitTransaction();
        return 0;
      }
      const messages = rows.map((row) => toOutgoingMessage(row.envelope, { trace: row.headers, appId: this.options.service }));
      const results = await this.publisher.publish(messages, this.publishTimeoutMs);
      const sent = results.filter((r) => r.ok).map((r) => r.messageId);
      const failed = results.filter((r) => !r.ok).map((r) => ({ id: r.messageId, error: r.error ?? 'not confirmed' }));
      await OutboxRepository.markSent(runner, sent);
      await OutboxRepository.markFailed(runner, failed);
      await runner.commitTransaction();
      const typeById = new Map(rows.map((row) => [row.id, row.envelope.type]));
      for (const id of sent) this.metrics.published.inc({ type: typeById.get(id) ?? 'unknown' });
      if (failed.length > 0) throw new BusPublishError(`${failed.length} of ${rows.length} outbox messages were not confirmed: ${failed[0].error}`);
      return rows.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release().catch(() => undefined);
    }
  }

  /** Refreshes `bus_outbox_pending` from the table. */
  async refreshPendingGauge(): Promise<number> {
    const pending = await OutboxRepository.countPending(this.options.dataSource);
    this.metrics.outboxPending.set(pending);
    return pending;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!this.options.connection.isHealthy()) {
        await this.waitForWakeUp(this.pollIntervalMs, signal);
        continue;
      }
      let count: number;
      try {
        count = await this.relayOnce();
        this.failureBackoff.reset();
      } catch (error) {
        const delayMs = this.failureBackoff.next();
        this.logger.warn(BusMessages.relayBatchFailed(describeError(error), delayMs));
        await sleep(delayMs, signal);
        continue;
      }
      if (count < this.batchSize) await this.waitForWakeUp(this.pollIntervalMs, signal);
    }
  }

  private waitForWakeUp(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.wakePending || signal.aborted) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeWaiter === done) this.wakeWaiter = undefined;
        this.wakePending = false;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.wakeWaiter = done;
    });
  }

  private onConnected(listener: () => void): () => void {
    const onState = (state: string): void => {
      if (state === 'connected') listener();
    };
    this.options.connection.on('state', onState);
    return () => this.options.connection.off('state', onState);
  }

  private async housekeeping(): Promise<void> {
    if (this.stopSignal?.signal.aborted) return;
    try {
      await this.refreshPendingGauge();
      if (Date.now() - this.lastCleanupAt >= OUTBOX_DEFAULT_CLEANUP_INTERVAL_MS) {
        this.lastCleanupAt = Date.now();
        await OutboxRepository.deleteSentBefore(this.options.dataSource, this.options.retentionMs ?? OUTBOX_DEFAULT_RETENTION_MS, OUTBOX_CLEANUP_BATCH_SIZE);
      }
    } catch (error) {
      this.logger.warn(BusMessages.housekeepingFailed('outbox', describeError(error)));
    }
    if ((this.options.listen ?? true) && !this.listener) await this.ensureListener();
  }

  /** A dedicated connection (not one of the pool's) that LISTENs for the outbox trigger's NOTIFY. */
  private async ensureListener(): Promise<void> {
    if (this.listener || this.stopSignal?.signal.aborted) return;
    const client = new Client(listenerConfig(this.options.dataSource.options as PostgresConnectionOptions));
    this.listener = client;
    client.on('notification', () => this.wakeUp());
    client.on('error', (error: unknown) => {
      // The relay keeps polling; housekeeping opens a new listener later.
      this.logger.warn(BusMessages.relayListenFailed(describeError(error)));
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_NOTIFY_CHANNEL}`);
    } catch (error) {
      this.logger.warn(BusMessages.relayListenFailed(describeError(error)));
      if (this.listener === client) this.listener = undefined;
      await client.end().catch(() => undefined);
    }
    if (this.stopSignal?.signal.aborted) await this.closeListener();
  }

  private async closeListener(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}

/** pg client settings equivalent to the DataSource's (URL or discrete fields). */
function listenerConfig(options: PostgresConnectionOptions): ClientConfig {
  return {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password as ClientConfig['password'],
    database: options.database,
    ssl: options.ssl as ClientConfig['ssl'],
    application_name: 'rallyforge-bus-outbox-listener',
    keepAlive: true,
  };
}
