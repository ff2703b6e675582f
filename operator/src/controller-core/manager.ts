import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { type Clock, systemClock } from './clock';
import { Controller, type Reconciler, type Request } from './controller';
import { EventRecorder } from './event-recorder';
import { HealthServer } from './health-server';
import { Informer, type InformerHandler } from './informer';
import type { KubeClient } from './kube-client';
import { KubeLeaseLock, LeaderElector, type LeadershipOutcome } from './leader-election';
import { type Logger, silentLogger } from './logger';
import { ControllerMetrics } from './metrics';
import type { RateLimiter } from './rate-limiter';
import { apiVersionOf, type KubeObject, resourceName, type ResourceType } from './resource';
import { Applier, OPERATOR_FIELD_MANAGER } from './server-side-apply';

/** controller-runtime's GracefulShutdownTimeout: in-flight reconciles get this long to finish. */
export const DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_MS = 30_000;
/** A leader that has not renewed for its lease plus this long fails /healthz (client-go's HealthzAdaptor). */
export const LEADER_HEALTH_TOLERANCE_MS = 20_000;

export interface LeaderElectionSettings {
  /** Namespace of the Lease, usually the operator's own. */
  namespace: string;
  /** Name of the Lease, e.g. `rallyforge-operator`. */
  name: string;
  /** @default `<hostname>_<uuid>` */
  identity?: string;
  /** @default 15 s */
  leaseDurationMs?: number;
  /** @default 10 s */
  renewDeadlineMs?: number;
  /** @default 2 s */
  retryPeriodMs?: number;
  /** @default true: the Manager stops every controller before it releases the lease */
  releaseOnCancel?: boolean;
}

export interface ManagerOptions {
  client: KubeClient;
  /** Where the controller-runtime metrics are registered and what /metrics serves. @default a new Registry */
  registry?: Registry;
  /** Elect a leader on a Lease (standbys keep warm caches), or run every controller right away (`false`). */
  leaderElection: LeaderElectionSettings | false;
  /** /healthz, /readyz and /metrics; `false` for none. @default port 8081 */
  healthProbe?: { port?: number; host?: string } | false;
  /** @default 30 s */
  gracefulShutdownTimeoutMs?: number;
  /** Field manager of `applier()` and component of `eventRecorder()`. @default 'rallyforge-operator' */
  fieldManager?: string;
  clock?: Clock;
  logger?: Logger;
}

export interface InformerSelection {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Milliseconds; 0 for none. Required: resyncs are a decision, not a default. */
  resyncPeriodMs: number;
}

export interface WatchSpec extends Omit<InformerSelection, 'resyncPeriodMs'> {
  resource: ResourceType;
  /** Only objects carrying the operator's labels are watched: a selector is required. */
  labelSelector: string;
  /** @default 0: owned objects are reconciled on change, the primary's resync covers the rest */
  resyncPeriodMs?: number;
}

export interface ControllerRegistration {
  name: string;
  /** The kind the reconciler reconciles; each of its objects is a request. */
  for: InformerSelection & { resource: ResourceType };
  /** Kinds it creates: a change to one reconciles its controlling owner (ownerReferences, controller: true). */
  owns?: WatchSpec[];
  /** Other kinds whose changes map to requests through `map`. */
  watches?: Array<WatchSpec & { map: (object: KubeObject) => Request[] }>;
  reconciler: Reconciler;
  /** @default 1 */
  maxConcurrentReconciles?: number;
  rateLimiter?: RateLimiter;
}

/** The replica lost its lease while leading: it must exit so that it restarts as a standby. */
export class LeaderElectionLostError extends Error {
  override readonly name = 'LeaderElectionLostError';
}

interface Registered {
  controller: Controller;
  bindings: Array<{ informer: Informer<KubeObject>; handler: InformerHandler<KubeObject> }>;
}

/**
 * Runs controllers the way controller-runtime's manager does:
 * - informers start on every replica (a standby's cache is warm when it takes over);
 * - the controllers' workers start only on the leader, once every informer has synced;
 * - on shutdown (the `start` signal): readiness fails, workers finish in-flight reconciles (up to the graceful
 *   timeout), then the lease is released, informers stop, pending Events are written, the probe server closes;
 * - losing the lease stops the workers at once and rejects `start` with LeaderElectionLostError.
 */
export class Manager {
  readonly client: KubeClient;
  /** Events go through a bucket of their own (see KubeClient.withOwnRateLimit). */
  private readonly eventsClient: KubeClient;
  readonly registry: Registry;
  readonly metrics: ControllerMetrics;
  readonly identity: string;
  private readonly options: ManagerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly informers = new Map<string, { informer: Informer<KubeObject>; resyncPeriodMs: number }>();
  private readonly controllers: Registered[] = [];
  private readonly recorders: EventRecorder[] = [];
  private readonly elector?: LeaderElector;
  private readonly health?: HealthServer;
  private started = false;
  private stopping = false;

  private constructor(options: ManagerOptions) {
    this.options = options;
    this.client = options.client;
    this.eventsClient = options.client.withOwnRateLimit();
    this.registry = options.registry ?? new Registry();
    this.metrics = ControllerMetrics.for(this.registry);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    const election = options.leaderElection;
    this.identity = (election && election.identity) || `${hostname()}_${randomUUID()}`;
    if (election) {
      this.elector = LeaderElector.create({
        lock: new KubeLeaseLock(this.client.withOwnRateLimit(), election.namespace, election.name),
        identity: this.identity,
        leaseDurationMs: election.leaseDurationMs,
        renewDeadlineMs: election.renewDeadlineMs,
        retryPeriodMs: election.retryPeriodMs,
        releaseOnCancel: election.releaseOnCancel,
        clock: this.clock,
        logger: this.logger,
        metrics: this.metrics,
        name: election.name,
      });
    }
    if (options.healthProbe !== false) {
      this.health = HealthServer.create({ ...options.healthProbe, registry: this.registry, logger: this.logger });
      this.health.addHealthzCheck('leader-election', () => this.elector?.check(LEADER_HEALTH_TOLERANCE_MS));
      this.health.addReadyzCheck('informers-synced', () => {
        const pending = [...this.informers.values()].filter(({ informer }) => !informer.hasSynced());
        return pending.length ? `not synced: ${pending.map(({ informer }) => informer.name).join(', ')}` : undefined;
      });
      this.health.addReadyzCheck('shutdown', () => (this.stopping ? 'shutting down' : undefined));
    }
  }

  static create(options: ManagerOptions): Manager {
    return new Manager(options);
  }

  /** The probe server, when enabled (its port is known after `start`). */
  get healthServer(): HealthServer | undefined {
    return this.health;
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.started;
  }

  /**
   * The shared informer for `resource` with this selection (one watch per selection, whoever asks). Secrets need
   * a label selector (see Informer.forResource).
   */
  informer<T extends KubeObject>(resource: ResourceType, selection: InformerSelection): Informer<T> {
    const key = [apiVersionOf(resource), resource.plural, selection.namespace, selection.labelSelector, selection.fieldSelector].join('|');
    const existing = this.informers.get(key);
    if (existing) {
      if (existing.resyncPeriodMs !== selection.resyncPeriodMs) {
        throw new Error(
          `The informer on ${resourceName(resource)} (${key}) exists with resyncPeriodMs ${existing.resyncPeriodMs}; ` +
            `asked again with ${selection.resyncPeriodMs}. Use one period per selection.`,
        );
      }
      return existing.informer as unknown as Informer<T>;
    }
    if (this.started) throw new Error('Informers are registered before Manager.start().');
    const informer = Informer.forResource<KubeObject>(this.client, resource, {
      ...selection,
      clock: this.clock,
      logger: this.logger,
    });
    this.informers.set(key, { informer, resyncPeriodMs: selection.resyncPeriodMs });
    return informer as unknown as Informer<T>;
  }

  /** Registers a controller: its informers are created now, its workers start on the leader. */
  addController(registration: ControllerRegistration): Controller {
    if (this.started) throw new Error(`Controller ${registration.name} must be added before Manager.start().`);
    const controller = Controller.create({
      name: registration.name,
      reconciler: registration.reconciler,
      maxConcurrentReconciles: registration.maxConcurrentReconciles,
      rateLimiter: registration.rateLimiter,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
    });
    const primary = registration.for;
    const enqueue = (requests: Request[]): void => requests.forEach((request) => controller.enqueue(request));
    const bindings: Registered['bindings'] = [
      { informer: this.informer(primary.resource, primary), handler: handlerFor((object) => [requestOf(object)]) },
    ];
    for (const owned of registration.owns ?? []) {
      bindings.push({
        informer: this.informer(owned.resource, this.selection(registration.name, owned)),
        handler: handlerFor((object) => controllingOwner(object, primary.resource)),
      });
    }
    for (const watched of registration.watches ?? []) {
      bindings.push({ informer: this.informer(watched.resource, this.selection(registration.name, watched)), handler: handlerFor(watched.map) });
    }
    this.controllers.push({ controller, bindings });
    return controller;

    function handlerFor(map: (object: KubeObject) => Request[]): InformerHandler<KubeObject> {
      const on = (object: KubeObject): void => enqueue(map(object));
      return { onAdd: on, onUpdate: (_old, object) => on(object), onDelete: on, onResync: on };
    }
  }

  /** Server-side apply as the operator's field manager. */
  applier(): Applier {
    return Applier.create({ client: this.client, fieldManager: this.options.fieldManager ?? OPERATOR_FIELD_MANAGER });
  }

  /** An Events recorder whose pending writes are flushed on shutdown. */
  eventRecorder(component = this.options.fieldManager ?? OPERATOR_FIELD_MANAGER): EventRecorder {
    const recorder = EventRecorder.create({ client: this.eventsClient, component, host: this.identity, clock: this.clock, logger: this.logger });
    this.recorders.push(recorder);
    return recorder;
  }

  /**
   * Runs until `signal` aborts (graceful shutdown; resolves) or leadership is lost (rejects with
   * LeaderElectionLostError after stopping everything).
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error('Manager.start() was called twice.');
    this.started = true;
    await this.health?.start();
    for (const { informer } of this.informers.values()) informer.start();

    const election = new AbortController();
    let leadership: Promise<LeadershipOutcome> = Promise.resolve('stopped');
    const lost = new Promise<void>((resolve) => {
      if (this.elector) {
        leadership = this.elector.run(election.signal, {
          onStartedLeading: (leading) => void this.startControllers(leading),
          onNewLeader: (identity) => this.logger.info(`Observed leader ${identity}`, { identity }),
        });
        void leadership.then((outcome) => outcome === 'lost' && resolve());
      } else {
        void this.startControllers(signal);
      }
    });
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });

    const cause = await Promise.race([stopped.then(() => 'signal' as const), lost.then(() => 'lost' as const)]);
    this.stopping = true;
    this.logger.info(cause === 'lost' ? 'Lost leadership; stopping' : 'Stopping', { identity: this.identity });
    // Once the lease is lost another replica may already lead: no grace period for in-flight reconciles then.
    const grace = cause === 'lost' ? 0 : this.options.gracefulShutdownTimeoutMs ?? DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_MS;
    await this.stopControllers(grace);
    election.abort(); // releases the lease, now that no worker runs
    await leadership;
    await Promise.all([...this.informers.values()].map(({ informer }) => informer.stop()));
    await Promise.all(this.recorders.map((recorder) => recorder.flush()));
    await this.health?.stop();
    this.logger.info('Stopped', { identity: this.identity });
    if (cause === 'lost') throw new LeaderElectionLostError(`Lost the lease of ${this.identity}: exiting to restart as a standby.`);
  }

  private async startControllers(leading: AbortSignal): Promise<void> {
    const informers = [...new Set(this.controllers.flatMap((c) => c.bindings.map((b) => b.informer)))];
    // Each waiting informer listens on `leading`: the tenant operator has 17 of them, above Node's default of 10, and
    // Node would warn of an EventTarget leak that is not one (the listeners go once the caches have synced).
    setMaxListeners(Math.max(10, informers.length + 10), leading);
    const synced = await Promise.all(informers.map((informer) => informer.waitForSync(leading)));
    if (leading.aborted || this.stopping || synced.includes(false)) return;
    for (const { controller, bindings } of this.controllers) {
      // Registering replays the cache as adds: every existing object is reconciled once on startup.
      for (const { informer, handler } of bindings) informer.addHandler(handler);
      controller.start();
    }
  }

  private async stopControllers(timeoutMs: number): Promise<void> {
    const results = await Promise.all(this.controllers.map(({ controller }) => controller.stop(timeoutMs)));
    if (results.includes(false)) this.logger.warn('Aborted reconciles that outlived the graceful shutdown timeout');
  }

  private selection(controller: string, spec: WatchSpec): InformerSelection {
    if (!spec.labelSelector) {
      throw new Error(
        `Controller ${controller} watches ${resourceName(spec.resource)} without a label selector: the operator ` +
          'watches only objects carrying its labels (set labelSelector, e.g. app.kubernetes.io/managed-by=rallyforge-operator).',
      );
    }
    return { namespace: spec.namespace, labelSelector: spec.labelSelector, fieldSelector: spec.fieldSelector, resyncPeriodMs: spec.resyncPeriodMs ?? 0 };
  }
}

function requestOf(object: KubeObject): Request {
  const { name, namespace } = object.metadata;
  return namespace ? { namespace, name: name as string } : { name: name as string };
}

/** The request for an object's controlling owner of the primary kind (none if it has no such owner). */
export function controllingOwner(object: KubeObject, owner: ResourceType): Request[] {
  // Any version of the owner's group matches: the reference may have been written with an older version.
  const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
  const reference = object.metadata.ownerReferences?.find(
    (ref) => ref.controller && ref.kind === owner.kind && groupOf(ref.apiVersion) === owner.group,
  );
  if (!reference) return [];
  // A namespaced owner lives in its dependent's namespace; a cluster-scoped one has none.
  return [owner.namespaced ? { namespace: object.metadata.namespace, name: reference.name } : { name: reference.name }];
}

/** An AbortSignal that aborts on SIGTERM or SIGINT (the kubelet sends SIGTERM, then SIGKILL after the grace period). */
export function shutdownSignal(processLike: NodeJS.EventEmitter = process): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: string): void => controller.abort(new Error(`received ${name}`));
  processLike.once('SIGTERM', () => onSignal('SIGTERM'));
  processLike.once('SIGINT', () => onSignal('SIGINT'));
  return controller.signal;
}
