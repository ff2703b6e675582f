import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { ServiceLifecycle } from '../health/service-lifecycle';
import { shutdownTelemetry } from '../telemetry/telemetry-handle';
import type { InFlightTracker } from './in-flight-tracker';

/** After the drain bound, closing connections and the app gets this much longer before a forced exit(1). */
export const SHUTDOWN_FORCE_EXIT_GRACE_MS = 10_000;

/**
 * The shape of a Nest CustomTransportStrategy, restated so the kit needs neither @nestjs/microservices nor
 * @rallyforge/bus (which depends on the kit's conventions, not the other way round).
 */
export interface BusTransportStrategy {
  listen(callback: (...args: unknown[]) => void): unknown;
  close(): unknown;
}

export interface BusShutdownOptions {
  /** The bus consumer (BusServer from @rallyforge/bus), connected as a Nest microservice. */
  server?: BusTransportStrategy;
  /**
   * Called when shutdown begins, right after readiness flips: stop consuming and wait for in-flight handlers
   * (bounded by SHUTDOWN_TIMEOUT_MS as HTTP is). Without it, `server.close()` is called at that point. Either way
   * Nest calls `server.close()` again in app.close(), so it must be idempotent.
   */
  onClose?: () => void | Promise<void>;
  /** The bus connection's own state, added to /health/ready as `bus`. */
  isHealthy?: () => boolean;
}

export interface GracefulShutdownOptions {
  app: INestApplication;
  tracker: InFlightTracker;
  logger: Logger;
  timeoutMs: number;
  bus?: BusShutdownOptions;
  /** @default process.exit */
  exit?: (code: number) => void;
}

/**
 * SIGTERM → readiness fails → the bus stops consuming and in-flight handlers finish, while the HTTP server stops
 * accepting connections and in-flight requests finish (both within `timeoutMs`; stragglers are cut off) → Nest
 * closes the app (bus connection, PostgreSQL pool, Redis) → spans are flushed → exit 0.
 *
 * Nest's enableShutdownHooks() is deliberately not used: its signal handler closes the app without draining and
 * then re-raises the signal, so the process would end with 143 instead of 0.
 */
export class GracefulShutdown {
  private running?: Promise<void>;

  constructor(private readonly options: GracefulShutdownOptions) {}

  /** Starts the shutdown once; later calls (a second SIGTERM) return the same promise. */
  run(signal: string): Promise<void> {
    if (this.running) {
      this.options.logger.info({ signal }, 'Shutdown already in progress');
      return this.running;
    }
    this.running = this.shutdown(signal);
    return this.running;
  }

  private async shutdown(signal: string): Promise<void> {
    const { app, logger, timeoutMs } = this.options;
    const exit = this.options.exit ?? ((code: number) => process.exit(code));
    const startedAt = Date.now();
    logger.info({ signal, timeoutMs }, 'Shutdown started');
    const watchdog = setTimeout(() => {
      logger.fatal({ timeoutMs }, 'Shutdown did not finish in time; exiting with code 1');
      exit(1);
    }, timeoutMs + SHUTDOWN_FORCE_EXIT_GRACE_MS);
    watchdog.unref();

    let code = 0;
    try {
      app.get(ServiceLifecycle, { strict: false }).beginShutdown();
      await Promise.all([this.stopBus(), this.drainHttp()]);
      await app.close();
      logger.info({ durationMs: Date.now() - startedAt }, 'Shutdown completed');
    } catch (error) {
      code = 1;
      logger.error({ err: error }, 'Shutdown failed');
    } finally {
      clearTimeout(watchdog);
      await shutdownTelemetry();
    }
    exit(code);
  }

  private async stopBus(): Promise<void> {
    const bus = this.options.bus;
    if (!bus?.onClose && !bus?.server) {
      return;
    }
    const stop = bus.onClose ? bus.onClose() : bus.server!.close();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.resolve(stop).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), this.options.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (!finished) {
      this.options.logger.warn({ timeoutMs: this.options.timeoutMs }, 'Bus consumer did not stop in time; closing anyway');
    }
  }

  private async drainHttp(): Promise<void> {
    const { app, tracker, logger, timeoutMs } = this.options;
    const server = app.getHttpServer() as Server;
    // No new connections from here on; idle keep-alive connections are closed now, busy ones once they are idle.
    server.close();
    server.closeIdleConnections();
    const drained = await tracker.waitForIdle(timeoutMs);
    if (drained) {
      server.closeIdleConnections();
    } else {
      logger.warn({ inFlight: tracker.inFlight, timeoutMs }, 'HTTP requests still running at the drain bound; cutting them off');
      server.closeAllConnections();
    }
  }
}
