import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, register as globalRegistry } from 'prom-client';

/** Label of requests that matched no route, so that scanners cannot blow up the label set. */
export const UNMATCHED_ROUTE = 'unmatched';
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The pg Pool counters the pool gauges read at scrape time. */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * The kit's metrics. They live in a registry of their own (one per app, so that several apps in one test
 * process do not collide), and `/metrics` serves it together with prom-client's global registry, which holds the
 * default process metrics and whatever libraries register there (the bus: publish/consume counters, handler
 * durations).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds, by route template, method and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly httpRequestsTotal = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template, method and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  readonly httpRequestsInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being handled right now',
    registers: [this.registry],
  });

  readonly cacheRequests = new Counter({
    name: 'cache_requests_total',
    help: 'Redis cache look-ups by result (hit or miss; a Redis error counts as a miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly cacheErrors = new Counter({
    name: 'cache_errors_total',
    help: 'Redis cache operations that failed and were treated as a miss or skipped',
    registers: [this.registry],
  });

  private poolStats?: () => PoolStats | undefined;

  constructor() {
    ensureDefaultMetrics();
    const readPool = () => this.poolStats?.();
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections by state: total (open), idle, waiting (clients queued for one)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const stats = readPool();
        if (!stats) {
          return;
        }
        this.set({ state: 'total' }, stats.totalCount);
        this.set({ state: 'idle' }, stats.idleCount);
        this.set({ state: 'waiting' }, stats.waitingCount);
      },
    });
  }

  /** Records one answered HTTP request. */
  observeHttpRequest(labels: { method: string; route: string | undefined; statusCode: number }, seconds: number): void {
    const values = { method: labels.method, route: labels.route ?? UNMATCHED_ROUTE, status_code: String(labels.statusCode) };
    this.httpRequestsTotal.inc(values);
    this.httpRequestDuration.observe(values, seconds);
  }

  /** Makes the pool gauges read from `stats` (called when a DataSource exists). */
  trackDatabasePool(stats: () => PoolStats | undefined): void {
    this.poolStats = stats;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of both registries. */
  async metrics(): Promise<string> {
    const [shared, own] = await Promise.all([globalRegistry.metrics(), this.registry.metrics()]);
    return `${shared.trimEnd()}\n${own}`;
  }
}

/** Default process metrics go into the global registry once per process, however many apps start. */
function ensureDefaultMetrics(): void {
  if (!globalRegistry.getSingleMetric('process_cpu_user_seconds_total')) {
    collectDefaultMetrics({ register: globalRegistry });
  }
}
