import { hostname } from 'node:os';
import { type Clock, systemClock } from './clock';
import { isNotFound, type KubeClient } from './kube-client';
import { errorMessage, type Logger, silentLogger } from './logger';
import { TokenBucket } from './rate-limiter';
import { EVENTS, type KubeObject } from './resource';
import { ResourceClient } from './resource-client';

export type EventType = 'Normal' | 'Warning';

/** Events of cluster-scoped objects go to `default`, as client-go's recorder does. */
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';
/** client-go's spam filter: 25 events per object at once, then one per 5 minutes. */
export const EVENT_BURST_PER_OBJECT = 25;
export const EVENT_REFILL_PER_SECOND = 1 / 300;
/** Longer messages are cut (events.k8s.io limits notes to 1 kB). */
export const MAX_EVENT_MESSAGE_LENGTH = 1024;
const DEFAULT_CACHE_SIZE = 4096;
const MAX_PENDING_WRITES = 1000;

export interface EventRecorderOptions {
  client: KubeClient;
  /** `source.component` / `reportingComponent`, e.g. `rallyforge-operator`. */
  component: string;
  /** `source.host` / `reportingInstance`. @default os.hostname() */
  host?: string;
  clock?: Clock;
  logger?: Logger;
  /** Distinct events remembered for aggregation. @default 4096 */
  cacheSize?: number;
}

interface CoreEvent extends KubeObject {
  involvedObject: {
    apiVersion?: string;
    kind?: string;
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
  };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host: string };
  reportingComponent: string;
  reportingInstance: string;
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

/**
 * Records core/v1 Events about objects (what `kubectl describe` shows), like client-go's EventRecorder:
 * fire-and-forget (a failed event is logged, never thrown into a reconcile), the same event repeated is
 * aggregated into one whose `count` grows, and a spam filter caps events per object.
 */
export class EventRecorder {
  private readonly events: ResourceClient<CoreEvent>;
  private readonly component: string;
  private readonly host: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cacheSize: number;
  private readonly recorded = new Map<string, Recorded>();
  private readonly spamFilter = new Map<string, TokenBucket>();
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private sequence = 0;

  private constructor(options: EventRecorderOptions) {
    if (!options.component) throw new Error('An EventRecorder needs a component name (for example rallyforge-operator).');
    this.events = new ResourceClient<CoreEvent>(options.client, EVENTS);
    this.component = options.component;
    this.host = options.host ?? hostname();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  }

  static create(options: EventRecorderOptions): EventRecorder {
    return new EventRecorder(options);
  }

  /**
   * Records an event about `object` (which needs apiVersion, kind and metadata.name; its uid ties the event to
   * this incarnation). `reason` is a short UpperCamelCase word (`Provisioned`, `DeprovisionFailed`).
   */
  record(object: KubeObject, type: EventType, reason: string, message: string): void {
    const { name, namespace, uid, resourceVersion } = object.metadata;
    if (!object.apiVersion || !object.kind || !name) {
      this.logger.error(`Dropped event ${reason}: the object lacks apiVersion, kind or metadata.name`, { reason });
      return;
    }
    if (!/^[A-Z][A-Za-z0-9]*$/.test(reason)) {
      this.logger.error(`Dropped event with reason "${reason}": use an UpperCamelCase word`, { reason });
      return;
    }
    const involvedObject = { apiVersion: object.apiVersion, kind: object.kind, name, namespace, uid, resourceVersion };
    const objectId = `${object.apiVersion}/${object.kind}/${namespace ?? ''}/${name}/${uid ?? ''}`;
    if (!this.allow(objectId)) {
      this.logger.debug(`Dropped event ${reason} about ${object.kind} ${name}: spam filter`, { reason });
      return;
    }
    if (this.pending >= MAX_PENDING_WRITES) {
      this.logger.warn(`Dropped event ${reason} about ${object.kind} ${name}: too many events pending`, { reason });
      return;
    }
    const text = message.length > MAX_EVENT_MESSAGE_LENGTH ? `${message.slice(0, MAX_EVENT_MESSAGE_LENGTH - 1)}…` : message;
    const key = `${objectId}\u0000${type}\u0000${reason}\u0000${text}`;
    const now = new Date(this.clock.now()).toISOString();
    this.pending += 1;
    this.tail = this.tail
      .then(() => this.write(key, { involvedObject, type, reason, message: text }, now))
      .catch((error: unknown) => {
        this.logger.warn(`Failed to record event ${reason} about ${object.kind} ${name}`, { error: errorMessage(error) });
      })
      .finally(() => {
        this.pending -= 1;
      });
  }

  /** Resolves when every event recorded so far has been written (or has failed). For tests and shutdown. */
  flush(): Promise<void> {
    return this.tail;
  }

  private async write(
    key: string,
    event: Pick<CoreEvent, 'involvedObject' | 'type' | 'reason' | 'message'>,
    timestamp: string,
  ): Promise<void> {
    const previous = this.recorded.get(key);
    if (previous) {
      try {
        await this.events.patch(
          previous.name,
          previous.namespace,
          { count: previous.count + 1, lastTimestamp: timestamp },
          { type: 'merge' },
        );
        previous.count += 1;
        return;
      } catch (error) {
        // Events expire (an hour by default): start a new one.
        if (!isNotFound(error)) throw error;
        this.recorded.delete(key);
      }
    }
    const namespace = event.involvedObject.namespace ?? CLUSTER_SCOPED_EVENT_NAMESPACE;
    const name = `${event.involvedObject.name}.${this.uniqueSuffix()}`;
    await this.events.create({
      metadata: { name, namespace },
      ...event,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host,
    });
    this.remember(key, { name, namespace, count: 1 });
  }

  private remember(key: string, recorded: Recorded): void {
    if (this.recorded.size >= this.cacheSize) {
      const oldest = this.recorded.keys().next().value;
      if (oldest !== undefined) this.recorded.delete(oldest);
    }
    this.recorded.set(key, recorded);
  }

  private allow(objectId: string): boolean {
    let bucket = this.spamFilter.get(objectId);
    if (!bucket) {
      if (this.spamFilter.size >= this.cacheSize) {
        const oldest = this.spamFilter.keys().next().value;
        if (oldest !== undefined) this.spamFilter.delete(oldest);
      }
      bucket = new TokenBucket(EVENT_REFILL_PER_SECOND, EVENT_BURST_PER_OBJECT, this.clock);
      this.spamFilter.set(objectId, bucket);
    }
    return bucket.tryTake();
  }

  /** client-go names events `<object>.<unix nanoseconds in hex>`; a sequence keeps one process's names apart. */
  private uniqueSuffix(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return (BigInt(this.clock.now()) * 1_000_000n + BigInt(this.sequence)).toString(16);
  }
}
