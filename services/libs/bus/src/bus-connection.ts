import { EventEmitter } from 'node:events';
import { Logger, type LoggerService } from '@nestjs/common';
import { connect, type ChannelModel } from 'amqplib';
import type { Registry } from 'prom-client';
import { Backoff, sleep, type BackoffOptions } from './backoff';
import {
  BUS_DEFAULT_HEARTBEAT_SECONDS,
  BUS_DEFAULT_PUBLISH_TIMEOUT_MS,
  BUS_DEFAULT_RECONNECT_FACTOR,
  BUS_DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  BUS_DEFAULT_RECONNECT_MAX_DELAY_MS,
} from './bus.constants';
import { BusConfigurationError, BusNotConnectedError } from './bus.errors';
import { BusMessages } from './bus.messages';
import { BusMetrics } from './bus-metrics';
import { describeError } from './message-headers';

/**
 * - `connecting`: opening the connection or setting up channels;
 * - `connected`: connection open and every registered setup (topology, consumers, channels) done;
 * - `disconnected`: lost or not yet reachable, reconnect scheduled;
 * - `closed`: `close()` was called; terminal.
 */
export type BusConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface BusConnectionOptions {
  /** AMQP URL, e.g. `amqp://user:pass@127.0.0.1:56729/%2F` (the `AMQP_URL` of the service). */
  readonly url: string;
  /**
   * Shown in logs, as the `connection` label of `bus_connection_up` and as the connection name in the RabbitMQ
   * management UI. @default 'rallyforge'
   */
  readonly name?: string;
  /** @default BUS_DEFAULT_HEARTBEAT_SECONDS (10) */
  readonly heartbeatSeconds?: number;
  /** Reconnect backoff. @default 250 ms doubling, capped at 10 s, jittered */
  readonly reconnect?: Partial<BackoffOptions>;
  /** @default prom-client's global registry */
  readonly registry?: Registry;
  readonly logger?: LoggerService;
}

/**
 * Work to redo on every (re)connect: open channels, declare topology, start consumers. A setup that throws
 * makes the connection recycle (with backoff), so the state is only `connected` when every setup succeeded.
 */
export type ConnectionSetup = (connection: ChannelModel) => Promise<void>;

export interface SetupRegistration {
  /** Resolves once the setup ran successfully (now, or on the next connect). */
  readonly ready: Promise<void>;
  /** Stops running the setup on reconnects. */
  remove(): void;
}

interface SetupEntry {
  readonly run: ConnectionSetup;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Owns one amqplib connection for a process (shared by the server, the client and the outbox relay), reconnects
 * with capped exponential backoff, re-runs the registered setups after every reconnect, and publishes its state
 * for readiness (`isHealthy()`) and metrics (`bus_connection_up`).
 */
export class BusConnection extends EventEmitter {
  readonly name: string;
  private currentState: BusConnectionState = 'disconnected';
  private model?: ChannelModel;
  private loop?: Promise<void>;
  private readonly setups = new Set<SetupEntry>();
  private readonly stopSignal = new AbortController();
  private readonly backoff: Backoff;
  private readonly metrics: BusMetrics;
  private readonly logger: LoggerService;

  constructor(private readonly options: BusConnectionOptions) {
    super();
    // Every publish waiting out an outage listens for the state: many listeners are expected, not a leak.
    this.setMaxListeners(0);
    this.name = options.name ?? 'rallyforge';
    this.backoff = new Backoff({
      initialDelayMs: options.reconnect?.initialDelayMs ?? BUS_DEFAULT_RECONNECT_INITIAL_DELAY_MS,
      maxDelayMs: options.reconnect?.maxDelayMs ?? BUS_DEFAULT_RECONNECT_MAX_DELAY_MS,
      factor: options.reconnect?.factor ?? BUS_DEFAULT_RECONNECT_FACTOR,
      jitter: options.reconnect?.jitter ?? true,
    });
    this.metrics = BusMetrics.for(options.registry);
    this.metrics.connectionUp.set({ connection: this.name }, 0);
    this.logger = options.logger ?? new Logger(BusConnection.name);
  }

  get state(): BusConnectionState {
    return this.currentState;
  }

  /** For readiness probes: true only while connected with every setup done. */
  isHealthy(): boolean {
    return this.currentState === 'connected';
  }

  override on(event: 'state', listener: (state: BusConnectionState, previous: BusConnectionState) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** Starts the connect loop (idempotent) and resolves once connected. Keeps retrying while the broker is down. */
  async connect(): Promise<void> {
    this.start();
    await this.waitUntilConnected(Number.POSITIVE_INFINITY);
  }

  /** Starts the connect loop without waiting for the broker. */
  start(): void {
    if (this.currentState === 'closed') throw new BusNotConnectedError(BusMessages.connectionClosed(this.name));
    this.loop ??= this.run();
  }

  /** The open connection once `connected`; waits up to `timeoutMs`, then throws `BusNotConnectedError`. */
  async waitUntilConnected(timeoutMs: number = BUS_DEFAULT_PUBLISH_TIMEOUT_MS): Promise<ChannelModel> {
    if (this.currentState === 'connected' && this.model) return this.model;
    if (this.currentState === 'closed') throw new BusNotConnectedError(BusMessages.connectionClosed(this.name));
    return new Promise<ChannelModel>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => finish(new BusNotConnectedError(BusMessages.notConnected(this.name, timeoutMs))), timeoutMs)
        : undefined;
      const onState = (state: BusConnectionState): void => {
        if (state === 'connected' && this.model) finish(undefined, this.model);
        if (state === 'closed') finish(new BusNotConnectedError(BusMessages.connectionClosed(this.name)));
      };
      const finish = (error?: Error, model?: ChannelModel): void => {
        if (timer) clearTimeout(timer);
        this.off('state', onState);
        if (model) resolve(model);
        else reject(error);
      };
      this.on('state', onState);
    });
  }

  /** The underlying amqplib connection while connected (for `unwrap()` and diagnostics). */
  get channelModel(): ChannelModel | undefined {
    return this.currentState === 'connected' ? this.model : undefined;
  }

  /**
   * Registers work to run on every (re)connect. Registered while connected, it runs at once; if that first run
   * fails, the registration is dropped and `ready` rejects (a broken setup must not recycle a healthy connection
   * that others use).
   */
  addSetup(run: ConnectionSetup): SetupRegistration {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers may not await `ready` (fire-and-forget registration); never let it become an unhandled rejection.
    ready.catch(() => undefined);
    const entry: SetupEntry = { run, resolve, reject };
    this.setups.add(entry);
    if (this.currentState === 'connected' && this.model) {
      run(this.model).then(resolve, (error: unknown) => {
        this.setups.delete(entry);
        reject(error);
      });
    } else if (this.currentState === 'closed') {
      this.setups.delete(entry);
      reject(new BusNotConnectedError(BusMessages.connectionClosed(this.name)));
    }
    return { ready, remove: () => this.setups.delete(entry) };
  }

  /**
   * Drops the current connection so that everything is set up afresh (used when a channel died unexpectedly:
   * recovering the whole connection is simpler and safer than patching one channel).
   */
  recover(reason: string): void {
    const model = this.model;
    if (!model || this.currentState === 'closed') return;
    this.logger.warn(BusMessages.connectionLost(this.name, reason));
    model.close().catch(() => undefined);
  }

  /** Closes the connection for good. Owners close their channels first. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.stopSignal.abort();
    const model = this.model;
    this.setState('closed');
    if (model) await model.close().catch(() => undefined);
    await this.loop;
    for (const entry of this.setups) entry.reject(new BusNotConnectedError(BusMessages.connectionClosed(this.name)));
    this.setups.clear();
  }

  private async run(): Promise<void> {
    while (!this.stopSignal.signal.aborted) {
      this.setState('connecting');
      let model: ChannelModel;
      try {
        model = await connect(withHeartbeat(this.options.url, this.options.heartbeatSeconds ?? BUS_DEFAULT_HEARTBEAT_SECONDS), this.socketOptions());
      } catch (error) {
        if (this.stopSignal.signal.aborted) break;
        const delayMs = this.backoff.next();
        this.logger.warn(BusMessages.connectFailed(this.name, describeError(error), delayMs));
        this.setState('disconnected');
        await sleep(delayMs, this.stopSignal.signal);
        continue;
      }
      if (this.stopSignal.signal.aborted) {
        await model.close().catch(() => undefined);
        break;
      }
      const lost = this.watch(model);
      this.model = model;
      const setUp = await this.runSetups(model);
      if (setUp && !this.stopSignal.signal.aborted) {
        this.backoff.reset();
        this.setState('connected');
        this.logger.log(BusMessages.connected(this.name));
      } else if (!setUp) {
        await model.close().catch(() => undefined);
      }
      const reason = await lost;
      this.model = undefined;
      if (this.stopSignal.signal.aborted) break;
      this.setState('disconnected');
      if (setUp) this.logger.warn(BusMessages.connectionLost(this.name, reason));
      await sleep(this.backoff.next(), this.stopSignal.signal);
    }
    this.model = undefined;
    this.setState('closed');
  }

  /** Resolves with a reason when the connection closes (broker restart, network loss, heartbeat timeout, close()). */
  private watch(model: ChannelModel): Promise<string> {
    let lastError: unknown;
    // Without an 'error' listener an emitted error would crash the process; the 'close' that follows carries on.
    model.on('error', (error: unknown) => {
      lastError = error;
    });
    model.on('blocked', (reason: string) => this.logger.warn(BusMessages.connectionBlocked(this.name, reason)));
    model.on('unblocked', () => this.logger.log(BusMessages.connectionUnblocked(this.name)));
    return new Promise((resolve) => {
      model.once('close', (error?: unknown) => resolve(describeError(error ?? lastError ?? 'connection closed')));
    });
  }

  private async runSetups(model: ChannelModel): Promise<boolean> {
    // A Set iterates entries added while iterating too, so a setup registered meanwhile is not missed.
    for (const entry of this.setups) {
      try {
        await entry.run(model);
        entry.resolve();
      } catch (error) {
        this.logger.error(BusMessages.setupFailed(this.name, describeError(error)));
        // A configuration error (e.g. a queue declared with other arguments) will not heal by reconnecting:
        // fail the owner's start instead of retrying forever. Anything else is retried on the next connection.
        if (error instanceof BusConfigurationError) {
          this.setups.delete(entry);
          entry.reject(error);
        }
        return false;
      }
    }
    return true;
  }

  private socketOptions(): Record<string, unknown> {
    return {
      timeout: 10_000,
      noDelay: true,
      clientProperties: { connection_name: this.name },
    };
  }

  private setState(state: BusConnectionState): void {
    const previous = this.currentState;
    if (previous === state || previous === 'closed') return;
    this.currentState = state;
    this.metrics.connectionUp.set({ connection: this.name }, state === 'connected' ? 1 : 0);
    this.emit('state', state, previous);
  }
}

/** amqplib reads the heartbeat from the URL's query string; add ours unless the URL sets one. */
export function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}
