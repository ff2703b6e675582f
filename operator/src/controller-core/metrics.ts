import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * controller-runtime's metric names and buckets, so that existing dashboards and alerts for Go operators apply
 * to ours unchanged (sigs.k8s.io/controller-runtime/pkg/internal/controller/metrics, pkg/metrics/workqueue.go,
 * client-go's leader election and REST client metrics).
 */
export const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** prometheus.ExponentialBuckets(10e-9, 10, 12): 10 ns to 1000 s. */
export const WORKQUEUE_DURATION_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

/** Outcome label of controller_runtime_reconcile_total. */
export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

/** What a work queue reports; one handle per queue name. */
export interface WorkQueueMetrics {
  added(): void;
  /** An item left the queue for a worker after waiting `queuedSeconds`. */
  started(queuedSeconds: number): void;
  /** A worker finished an item after `workSeconds`. */
  finished(workSeconds: number): void;
  retried(): void;
  /** Registers the source of workqueue_unfinished_work_seconds / workqueue_longest_running_processor_seconds. */
  trackInFlight(source: () => readonly number[] /* seconds each in-flight item has been worked on */): void;
}

/** What a controller reports; one handle per controller name. */
export interface ReconcileMetrics {
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
  setWorkers(active: number, max: number): void;
}

/** Metrics of one registry. Obtain it with `ControllerMetrics.for(registry)` (one instance per registry). */
export class ControllerMetrics {
  private static readonly byRegistry = new WeakMap<Registry, ControllerMetrics>();

  private readonly inFlightSources = new Map<string, () => readonly number[]>();

  private readonly reconcileTotal: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  private readonly activeWorkers: Gauge<'controller'>;
  private readonly maxConcurrentReconciles: Gauge<'controller'>;
  private readonly depth: Gauge<'name'>;
  private readonly adds: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly retries: Counter<'name'>;
  private readonly leaderStatus: Gauge<'name'>;
  private readonly restRequests: Counter<'code' | 'method' | 'host'>;
  private readonly requestsByResource: Counter<'method' | 'resource'>;

  private constructor(readonly registry: Registry) {
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: RECONCILE_TIME_BUCKETS,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    this.adds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets: WORKQUEUE_DURATION_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets: WORKQUEUE_DURATION_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    // Computed at scrape time from the queues' in-flight items instead of client-go's 500 ms update loop.
    const sources = this.inFlightSources;
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. ' +
        'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate ' +
        'at which this increases.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, source] of sources) this.set({ name }, source().reduce((sum, s) => sum + s, 0));
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: ['name'],
      registers,
      collect() {
        for (const [name, source] of sources) this.set({ name }, Math.max(0, ...source()));
      },
    });
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. ' +
        "'name' is the string used to identify the lease. Please make sure to group by name.",
      labelNames: ['name'],
      registers,
    });
    this.restRequests = new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests, partitioned by status code, method, and host.',
      labelNames: ['code', 'method', 'host'],
      registers,
    });
    // Not in client-go: rest_client_requests_total cannot tell a Lease renewal from a tenant write, and "what is the
    // operator writing at steady state?" is the first question when its request rate climbs.
    this.requestsByResource = new Counter({
      name: 'rallyforge_operator_api_requests_total',
      help: 'Kubernetes API requests by method and resource (plural, with /subresource), whatever their outcome.',
      labelNames: ['method', 'resource'],
      registers,
    });
  }

  /** The metrics registered in `registry` (registered on first use). */
  static for(registry: Registry): ControllerMetrics {
    let metrics = ControllerMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new ControllerMetrics(registry);
      ControllerMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  /** A fresh registry with the metrics registered: for tests and for processes that keep their own. */
  static create(): ControllerMetrics {
    return ControllerMetrics.for(new Registry());
  }

  workQueue(name: string): WorkQueueMetrics {
    const labels = { name };
    this.depth.set(labels, 0);
    this.adds.inc(labels, 0);
    this.retries.inc(labels, 0);
    return {
      added: () => {
        this.adds.inc(labels);
        this.depth.inc(labels);
      },
      started: (queuedSeconds) => {
        this.depth.dec(labels);
        this.queueDuration.observe(labels, queuedSeconds);
      },
      finished: (workSeconds) => this.workDuration.observe(labels, workSeconds),
      retried: () => this.retries.inc(labels),
      trackInFlight: (source) => this.inFlightSources.set(name, source),
    };
  }

  controller(name: string): ReconcileMetrics {
    const labels = { controller: name };
    for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const) {
      this.reconcileTotal.inc({ controller: name, result }, 0);
    }
    this.reconcileErrors.inc(labels, 0);
    return {
      reconciled: (outcome, seconds) => {
        this.reconcileTotal.inc({ controller: name, result: outcome });
        if (outcome === 'error') this.reconcileErrors.inc(labels);
        this.reconcileTime.observe(labels, seconds);
      },
      setWorkers: (active, max) => {
        this.activeWorkers.set(labels, active);
        this.maxConcurrentReconciles.set(labels, max);
      },
    };
  }

  /** Sets leader_election_master_status for the lease `name`. */
  leader(name: string, isLeader: boolean): void {
    this.leaderStatus.set({ name }, isLeader ? 1 : 0);
  }

  /** Counts one API request (rest_client_requests_total). `code` is the HTTP status or `<error>`. */
  request(code: string, method: string, host: string, path?: string): void {
    this.restRequests.inc({ code, method, host });
    if (path !== undefined) this.requestsByResource.inc({ method, resource: resourceOfPath(path) });
  }
}

/**
 * The resource an API path addresses: `secrets`, `rallyforgetenants/status`, `leases`; `discovery` for the group
 * and version documents. `/api/v1/namespaces/<name>` is the namespace itself.
 */
export function resourceOfPath(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  let i = parts[0] === 'api' ? 2 : parts[0] === 'apis' ? 3 : -1;
  if (i < 0 || i >= parts.length) return 'discovery';
  if (parts[i] === 'namespaces' && parts.length > i + 2) i += 2;
  const subresource = parts[i + 2];
  return subresource ? `${parts[i]}/${subresource}` : parts[i]!;
}
