import { type Clock, jitter, sleep, systemClock } from './clock';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from './kube-client';
import { errorMessage, type Logger, silentLogger } from './logger';
import type { ControllerMetrics } from './metrics';
import { LEASES, type KubeObject } from './resource';
import { ResourceClient } from './resource-client';

/** controller-runtime's defaults: a lease is valid 15 s after its last renewal... */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** ...the leader gives up if it cannot renew for 10 s... */
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
/** ...and every replica tries (to acquire or renew) every 2 s. */
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** client-go's JitterFactor: acquisition attempts are spread over [retry, retry × 2.2). */
const JITTER_FACTOR = 1.2;
/** Conflicting writes while releasing are retried (with a fresh read) this many times. */
const RELEASE_ATTEMPTS = 3;

/** The spec of a coordination.k8s.io/v1 Lease as leader election uses it. */
export interface LeaderElectionRecord {
  /** '' when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** MicroTime (RFC 3339 with microseconds). */
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

/** Where the record lives. Writes are optimistic: they fail if someone else wrote since our last `get`. */
export interface LeaseLock {
  /** `namespace/name`, for logs and metrics. */
  readonly description: string;
  get(signal?: AbortSignal): Promise<LeaderElectionRecord | undefined>;
  /** Fails if the lease exists. */
  create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  /** Fails if the lease changed since the last `get`/`create`/`update`. */
  update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
}

interface Lease extends KubeObject {
  spec?: Partial<LeaderElectionRecord>;
}

/** A Lease object through the API, with resourceVersion preconditions on every write. */
export class KubeLeaseLock implements LeaseLock {
  readonly description: string;
  private readonly leases: ResourceClient<Lease>;
  private lease?: Lease;

  constructor(
    client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.leases = new ResourceClient<Lease>(client, LEASES);
    this.description = `${namespace}/${name}`;
  }

  async get(signal?: AbortSignal): Promise<LeaderElectionRecord | undefined> {
    try {
      this.lease = await this.leases.get(this.name, this.namespace, signal);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const spec = this.lease.spec ?? {};
    return {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: spec.acquireTime ?? '',
      renewTime: spec.renewTime ?? '',
      leaseTransitions: spec.leaseTransitions ?? 0,
    };
  }

  async create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    this.lease = await this.leases.create(
      { metadata: { name: this.name, namespace: this.namespace }, spec: toSpec(record) },
      { signal },
    );
  }

  async update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    if (!this.lease) throw new Error(`Lease ${this.description} must be read before it is updated.`);
    // PUT with the resourceVersion we read: 409 Conflict if another replica wrote in between.
    this.lease = await this.leases.replace({ ...this.lease, spec: toSpec(record) }, { signal });
  }
}

function toSpec(record: LeaderElectionRecord): Partial<LeaderElectionRecord> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime || undefined,
    renewTime: record.renewTime || undefined,
    leaseTransitions: record.leaseTransitions,
  };
}

export interface LeaderElectorOptions {
  lock: LeaseLock;
  /** Unique per replica; controller-runtime uses `<hostname>_<uuid>`. */
  identity: string;
  /** @default 15 s */
  leaseDurationMs?: number;
  /** @default 10 s */
  renewDeadlineMs?: number;
  /** @default 2 s */
  retryPeriodMs?: number;
  /**
   * Clear the lease when `run`'s signal aborts, so a standby takes over at once instead of after the lease
   * expires. Only safe when everything the leader runs has stopped by then (the Manager ensures it).
   * @default true
   */
  releaseOnCancel?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Sets leader_election_master_status{name}. */
  metrics?: ControllerMetrics;
  /** The lease name in metrics. @default the lock's description */
  name?: string;
  random?: () => number;
}

export interface LeaderCallbacks {
  /** Called once leadership is acquired; `leading` aborts when it is lost or given up. */
  onStartedLeading(leading: AbortSignal): void;
  /** Called when leadership ends, whether lost or given up. */
  onStoppedLeading?(): void;
  /** Called when the observed holder changes (including to this replica). */
  onNewLeader?(identity: string): void;
}

/** How `run` ended: the signal aborted (`stopped`), or renewal failed for the renew deadline (`lost`). */
export type LeadershipOutcome = 'stopped' | 'lost';

/**
 * client-go's leader election on a Lease. Replicas try to acquire every retry period; the holder renews every
 * retry period and gives up when it could not renew for the renew deadline; the others take over once they
 * have seen the record unchanged for the lease duration. Expiry is judged by when this replica observed a
 * change, never by comparing the record's timestamps with the local clock, so clock skew between replicas
 * doesn't matter.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly lock: LeaseLock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics?: ControllerMetrics;
  private readonly name: string;
  private readonly random: () => number;
  private observedRecord?: LeaderElectionRecord;
  private observedTime = 0;
  private leading = false;
  private reportedLeader?: string;

  private constructor(options: LeaderElectorOptions) {
    this.lock = options.lock;
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    this.releaseOnCancel = options.releaseOnCancel ?? true;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.name = options.name ?? options.lock.description;
    this.random = options.random ?? Math.random;
    this.validate();
  }

  static create(options: LeaderElectorOptions): LeaderElector {
    return new LeaderElector(options);
  }

  /** True while this replica holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed ('' when released, undefined before the first read). */
  getLeader(): string | undefined {
    return this.observedRecord?.holderIdentity;
  }

  /**
   * For /healthz (client-go's HealthzAdaptor): a message when this replica believes it leads but has not
   * renewed for longer than the lease plus `toleranceMs`, i.e. it is stuck and another replica may lead.
   */
  check(toleranceMs = 0): string | undefined {
    if (!this.leading) return undefined;
    const overdue = this.clock.now() - (this.observedTime + this.leaseDurationMs + toleranceMs);
    return overdue > 0
      ? `Failed to renew lease ${this.lock.description}: last renewed ${this.clock.now() - this.observedTime} ms ago`
      : undefined;
  }

  /**
   * Campaigns until this replica leads (or `signal` aborts), then renews until `signal` aborts or renewal
   * fails. On abort, releases the lease when `releaseOnCancel`.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<LeadershipOutcome> {
    this.metrics?.leader(this.name, false);
    if (!(await this.acquire(signal, callbacks))) return 'stopped';

    const leading = new AbortController();
    this.setLeading(true);
    try {
      callbacks.onStartedLeading(leading.signal);
    } catch (error) {
      this.logger.error(`onStartedLeading failed for lease ${this.lock.description}`, { error: errorMessage(error) });
    }
    const outcome = await this.renew(signal, callbacks);
    leading.abort();
    if (outcome === 'stopped' && this.releaseOnCancel) await this.release();
    this.setLeading(false);
    callbacks.onStoppedLeading?.();
    return outcome;
  }

  private async acquire(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<boolean> {
    this.logger.info(`Attempting to acquire lease ${this.lock.description}`, { identity: this.identity });
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal, callbacks)) {
        this.logger.info(`Acquired lease ${this.lock.description}`, { identity: this.identity });
        return true;
      }
      await sleep(this.clock, jitter(this.retryPeriodMs, JITTER_FACTOR, this.random), signal);
    }
    return false;
  }

  /**
   * Renews every retry period. Gives up once renewDeadline has passed since the last successful renewal, which
   * is before any standby can consider the lease expired (leaseDuration > renewDeadline).
   */
  private async renew(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<LeadershipOutcome> {
    let lastRenewedAt = this.observedTime;
    for (;;) {
      await sleep(this.clock, this.retryPeriodMs, signal);
      if (signal.aborted) return 'stopped';
      const deadline = lastRenewedAt + this.renewDeadlineMs;
      if (this.clock.now() >= deadline) {
        this.logger.error(`Failed to renew lease ${this.lock.description} within ${this.renewDeadlineMs} ms`, {
          identity: this.identity,
        });
        return 'lost';
      }
      if (await this.tryAcquireOrRenew(signal, callbacks, deadline)) lastRenewedAt = this.observedTime;
    }
  }

  /** One attempt (client-go's tryAcquireOrRenew). Never throws: failures are `false`. */
  private async tryAcquireOrRenew(signal: AbortSignal, callbacks: LeaderCallbacks, deadline?: number): Promise<boolean> {
    const attempt = this.attemptSignal(signal, deadline);
    try {
      const now = this.clock.now();
      const desired: LeaderElectionRecord = {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      };
      const existing = await this.lock.get(attempt.signal);
      if (!existing) {
        await this.lock.create(desired, attempt.signal);
        this.observe(desired, now, callbacks);
        return true;
      }
      if (!sameRecord(existing, this.observedRecord)) this.observe(existing, now, callbacks);
      const heldByOther = existing.holderIdentity !== '' && existing.holderIdentity !== this.identity;
      if (heldByOther && this.observedTime + existing.leaseDurationSeconds * 1000 > now) return false;

      if (existing.holderIdentity === this.identity) {
        desired.acquireTime = existing.acquireTime;
        desired.leaseTransitions = existing.leaseTransitions;
      } else {
        desired.leaseTransitions = existing.leaseTransitions + 1;
      }
      await this.lock.update(desired, attempt.signal);
      this.observe(desired, now, callbacks);
      return true;
    } catch (error) {
      if (!signal.aborted && !isConflict(error) && !isAlreadyExists(error)) {
        this.logger.warn(`Failed to acquire or renew lease ${this.lock.description}`, { error: errorMessage(error) });
      }
      return false;
    } finally {
      attempt.dispose();
    }
  }

  /**
   * Gives the lease up: no holder, and a 1 s duration so that standbys need not wait out the old one. Reads the
   * lease first: a renewal cut short by the shutdown may have been written without this replica seeing the
   * answer, and a write based on the older version would be refused.
   */
  private async release(): Promise<void> {
    if (!this.observedRecord || this.observedRecord.holderIdentity !== this.identity) return;
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
      try {
        const current = await this.lock.get(signal);
        if (!current || current.holderIdentity !== this.identity) return; // not ours (any more)
        const now = this.clock.now();
        const released: LeaderElectionRecord = {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: current.leaseTransitions,
        };
        await this.lock.update(released, signal);
        this.observedRecord = released;
        this.observedTime = now;
        this.logger.info(`Released lease ${this.lock.description}`, { identity: this.identity });
        return;
      } catch (error) {
        if (isConflict(error) && attempt < RELEASE_ATTEMPTS) continue;
        this.logger.warn(`Failed to release lease ${this.lock.description}; standbys take over when it expires`, {
          error: errorMessage(error),
        });
        return;
      }
    }
  }

  private observe(record: LeaderElectionRecord, now: number, callbacks: LeaderCallbacks): void {
    this.observedRecord = record;
    this.observedTime = now;
    if (record.holderIdentity && record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      if (record.holderIdentity !== this.identity) {
        this.logger.info(`Observed new leader ${record.holderIdentity} of lease ${this.lock.description}`);
      }
      try {
        callbacks.onNewLeader?.(record.holderIdentity);
      } catch (error) {
        this.logger.error('onNewLeader failed', { error: errorMessage(error) });
      }
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.metrics?.leader(this.name, leading);
  }

  /** An attempt may not outlive the renew deadline (nor the run). */
  private attemptSignal(signal: AbortSignal, deadline?: number): { signal: AbortSignal; dispose(): void } {
    if (deadline === undefined) return { signal, dispose: () => {} };
    const controller = new AbortController();
    const timer = this.clock.setTimeout(() => controller.abort(new Error('renew deadline reached')), deadline - this.clock.now());
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    return {
      signal: controller.signal,
      dispose: () => {
        this.clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      },
    };
  }

  private validate(): void {
    const problems: string[] = [];
    if (!this.identity) problems.push('identity must not be empty (use a unique id per replica, e.g. the pod name)');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) problems.push('leaseDurationMs must be greater than renewDeadlineMs');
    if (!(this.renewDeadlineMs > JITTER_FACTOR * this.retryPeriodMs)) {
      problems.push(`renewDeadlineMs must be greater than ${JITTER_FACTOR} × retryPeriodMs`);
    }
    if (!(this.retryPeriodMs > 0)) problems.push('retryPeriodMs must be positive');
    if (this.leaseDurationMs % 1000 !== 0) problems.push('leaseDurationMs must be whole seconds (a Lease stores seconds)');
    if (problems.length > 0) {
      throw new Error(
        `Invalid leader election settings for ${this.lock.description}: ${problems.join('; ')}. ` +
          'The defaults (15 s / 10 s / 2 s) satisfy all of these.',
      );
    }
  }
}

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord | undefined): boolean {
  return (
    b !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
