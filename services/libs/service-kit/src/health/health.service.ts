import { Inject, Injectable, Logger, Optional, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS } from '../redis/redis.constants';
import { SERVICE_KIT_OPTIONS, type ServiceKitModuleOptions } from '../service-kit.options';
import { ServiceLifecycle } from './service-lifecycle';

/** A dependency ping slower than this counts as down: a probe must answer well within its own timeout. */
export const HEALTH_PING_TIMEOUT_MS = 2000;

/** A readiness check contributed by the service (the bus connection's own state, typically). */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface HealthReport {
  httpStatus: 200 | 503;
  body: HealthCheckResult;
}

/**
 * The three probes. Liveness checks nothing outside the process (a database outage must not restart every pod);
 * readiness checks lifecycle, PostgreSQL, Redis and the registered checks; startup passes once the app listens
 * and, with a database, no migration is pending.
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  private readonly readinessChecks = new Map<string, ReadinessCheck>();
  private migrationsVerified = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly lifecycle: ServiceLifecycle,
    @Optional() private readonly dataSource?: DataSource,
    @Optional() @Inject(REDIS) private readonly redis?: Redis,
    @Optional() @Inject(SERVICE_KIT_OPTIONS) options?: ServiceKitModuleOptions,
  ) {
    if (options?.health?.bus) {
      this.registerReadinessCheck('bus', options.health.bus);
    }
  }

  /** Adds a named check to /health/ready; a check that throws or returns false marks the service not ready. */
  registerReadinessCheck(name: string, check: ReadinessCheck): void {
    this.readinessChecks.set(name, check);
  }

  live(): Promise<HealthReport> {
    return this.run([]);
  }

  ready(): Promise<HealthReport> {
    const checks: HealthIndicatorFunction[] = [() => this.checkLifecycle()];
    if (this.dataSource) checks.push(() => this.checkDatabase(this.dataSource!));
    if (this.redis) checks.push(() => this.checkRedis(this.redis!));
    for (const [name, check] of this.readinessChecks) {
      checks.push(() => this.checkCallback(name, check));
    }
    return this.run(checks);
  }

  startup(): Promise<HealthReport> {
    const checks: HealthIndicatorFunction[] = [() => this.checkStarted()];
    if (this.dataSource) checks.push(() => this.checkMigrations(this.dataSource!));
    return this.run(checks);
  }

  private async run(checks: HealthIndicatorFunction[]): Promise<HealthReport> {
    try {
      return { httpStatus: 200, body: await this.health.check(checks) };
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        return { httpStatus: 503, body: error.getResponse() as HealthCheckResult };
      }
      throw error;
    }
  }

  private checkLifecycle(): HealthIndicatorResult {
    const session = this.indicators.check('lifecycle');
    return this.lifecycle.state === 'running' ? session.up() : session.down({ state: this.lifecycle.state });
  }

  private checkStarted(): HealthIndicatorResult {
    const session = this.indicators.check('started');
    return this.lifecycle.state === 'starting' ? session.down({ state: 'starting' }) : session.up();
  }

  private async checkDatabase(dataSource: DataSource): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('database');
    try {
      await withTimeout(dataSource.query('SELECT 1'), HEALTH_PING_TIMEOUT_MS, 'PostgreSQL did not answer in time');
      return session.up();
    } catch (error) {
      return session.down({ message: messageOf(error) });
    }
  }

  private async checkRedis(redis: Redis): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('redis');
    // ioredis queues commands while it reconnects; a ping then waits for the outage to end. Check the state first.
    if (redis.status !== 'ready') {
      return session.down({ message: `Redis connection is ${redis.status}` });
    }
    try {
      await withTimeout(redis.ping(), HEALTH_PING_TIMEOUT_MS, 'Redis did not answer in time');
      return session.up();
    } catch (error) {
      return session.down({ message: messageOf(error) });
    }
  }

  private async checkCallback(name: string, check: ReadinessCheck): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(name);
    try {
      return (await check()) ? session.up() : session.down({ message: `${name} is not healthy` });
    } catch (error) {
      return session.down({ message: messageOf(error) });
    }
  }

  private async checkMigrations(dataSource: DataSource): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('migrations');
    if (this.migrationsVerified) {
      return session.up();
    }
    try {
      const pending = await withTimeout(dataSource.showMigrations(), HEALTH_PING_TIMEOUT_MS, 'Migration check timed out');
      if (pending) {
        this.logger.warn('Pending migrations: run "node dist/migrate.js" (the Helm hook Job does) before this version starts');
        return session.down({ message: 'Pending migrations' });
      }
      this.migrationsVerified = true;
      return session.up();
    } catch (error) {
      return session.down({ message: messageOf(error) });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
