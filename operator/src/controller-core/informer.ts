import { Backoff, type BackoffOptions } from './backoff';
import { type Clock, type ClockTimer, sleep, systemClock } from './clock';
import { isGone, KubeApiError, type KubeClient } from './kube-client';
import { errorMessage, type Logger, silentLogger } from './logger';
import {
  apiVersionOf,
  type KubeList,
  type KubeObject,
  type KubeStatus,
  objectKey,
  resourceName,
  type ResourceType,
  SECRETS,
  type WatchEvent,
} from './resource';
import { ResourceClient, type SelectorOptions } from './resource-client';

/** Items per page of the initial list and relists (client-go's reflector pages by 500 too). */
export const DEFAULT_LIST_PAGE_SIZE = 500;
/** Watches last between this and twice this, so a fleet of clients doesn't reconnect in lockstep (client-go). */
export const DEFAULT_MIN_WATCH_TIMEOUT_SECONDS = 300;
/** A watch that ends sooner than this without any event counts as a failure for backoff purposes. */
const SHORT_WATCH_MS = 1_000;

/** The two calls an informer makes. `listWatchFor` builds one on a ResourceClient. */
export interface ListWatch<T extends KubeObject> {
  list(options: { limit: number; continue?: string }, signal: AbortSignal): Promise<KubeList<T>>;
  watch(
    options: { resourceVersion: string; allowWatchBookmarks: boolean; timeoutSeconds: number },
    signal: AbortSignal,
  ): AsyncIterable<WatchEvent<T>>;
}

/**
 * Receives changes of the cache. Handlers run synchronously in the informer's loop: keep them to enqueueing
 * keys (a controller's handlers do exactly that).
 */
export interface InformerHandler<T extends KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(oldObject: T, newObject: T): void;
  /**
   * `finalStateUnknown`: the deletion was noticed by a relist, not seen as a watch event, so `object` is the
   * last state the cache had (client-go's DeletedFinalStateUnknown).
   */
  onDelete?(object: T, finalStateUnknown: boolean): void;
  /** Every cached object, every resync period. */
  onResync?(object: T): void;
}

export interface InformerOptions<T extends KubeObject> {
  /** For logs, e.g. `configmaps (app.kubernetes.io/managed-by=rallyforge-operator)`. */
  name: string;
  listWatch: ListWatch<T>;
  /**
   * How often every cached object is handed to `onResync`, in milliseconds; 0 turns resyncs off. Required on
   * purpose: hidden periodic resyncs cause reconcile storms, so every informer states its period.
   */
  resyncPeriodMs: number;
  /** @default 500 */
  pageSize?: number;
  /** @default 300 (watches last 5–10 minutes) */
  minWatchTimeoutSeconds?: number;
  /** Reconnect backoff after errors. @default 800 ms doubling to 30 s */
  backoff?: BackoffOptions;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
}

export interface ResourceInformerOptions extends SelectorOptions, Omit<InformerOptions<KubeObject>, 'name' | 'listWatch'> {
  name?: string;
}

/** Counters describing what an informer did, for tests and debugging. */
export interface InformerStats {
  lists: number;
  watches: number;
  events: number;
  bookmarks: number;
  relistsAfterGone: number;
  errors: number;
}

/**
 * A cache of one kind kept current by list-then-watch (client-go's reflector + shared informer):
 *
 * - lists (paginated, consistent read), then watches from the list's resourceVersion with bookmarks enabled;
 * - when a watch ends (the server's timeout, a dropped connection) it resumes from the last resourceVersion seen,
 *   whether from an object or a bookmark, so nothing is missed and nothing is listed again;
 * - when the server answers 410 Gone (that version was compacted away), it relists and reconciles the cache with
 *   the list: objects missing from it are reported deleted (`finalStateUnknown`);
 * - every `resyncPeriodMs` it hands every cached object to the handlers' `onResync` (0: never).
 */
export class Informer<T extends KubeObject> {
  readonly name: string;
  readonly stats: InformerStats = { lists: 0, watches: 0, events: 0, bookmarks: 0, relistsAfterGone: 0, errors: 0 };
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly syncWaiters = new Set<() => void>();
  private readonly listWatch: ListWatch<T>;
  private readonly resyncPeriodMs: number;
  private readonly pageSize: number;
  private readonly minWatchTimeoutSeconds: number;
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private synced = false;
  private resourceVersion: string | undefined;
  private abort?: AbortController;
  private running?: Promise<void>;
  private resyncTimer?: ClockTimer;

  private constructor(options: InformerOptions<T>) {
    if (!Number.isFinite(options.resyncPeriodMs) || options.resyncPeriodMs < 0) {
      throw new Error(
        `Informer ${options.name}: resyncPeriodMs must be 0 (no resync) or a positive number of milliseconds, ` +
          `got ${options.resyncPeriodMs}.`,
      );
    }
    this.name = options.name;
    this.listWatch = options.listWatch;
    this.resyncPeriodMs = options.resyncPeriodMs;
    this.pageSize = options.pageSize ?? DEFAULT_LIST_PAGE_SIZE;
    this.minWatchTimeoutSeconds = options.minWatchTimeoutSeconds ?? DEFAULT_MIN_WATCH_TIMEOUT_SECONDS;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff({ random: this.random, ...options.backoff });
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  static create<T extends KubeObject>(options: InformerOptions<T>): Informer<T> {
    return new Informer(options);
  }

  /**
   * An informer on `resource` through the API. Refuses to cache Secrets without a label selector: a cache of
   * every Secret in the cluster is how operators run out of memory (and read what isn't theirs).
   */
  static forResource<T extends KubeObject>(
    client: KubeClient,
    resource: ResourceType,
    options: ResourceInformerOptions,
  ): Informer<T> {
    if (resource === SECRETS || (resource.group === '' && resource.plural === 'secrets')) {
      if (!options.labelSelector) {
        throw new Error(
          'Refusing to watch Secrets without a label selector: the operator caches only Secrets carrying its ' +
            'labels. Pass labelSelector (for example app.kubernetes.io/managed-by=rallyforge-operator).',
        );
      }
    }
    const selector = [options.namespace, options.labelSelector, options.fieldSelector].filter(Boolean).join(' ');
    return Informer.create<T>({
      ...options,
      name: options.name ?? (selector ? `${resourceName(resource)} (${selector})` : resourceName(resource)),
      listWatch: listWatchFor<T>(new ResourceClient<T>(client, resource), options),
    });
  }

  /**
   * Registers `handler`. When the cache has synced already, it first receives `onAdd` for every cached object
   * (as client-go's shared informers do), so late handlers miss nothing. Returns the unsubscribe function.
   */
  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    if (this.synced) {
      for (const object of this.store.values()) this.call('onAdd', () => handler.onAdd?.(object));
    }
    return () => this.handlers.delete(handler);
  }

  /** Starts listing and watching (idempotent). */
  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.running = this.run(signal);
    this.scheduleResync();
  }

  /** Stops the watch and the resync timer; resolves when the loop has ended. The cache keeps its contents. */
  async stop(): Promise<void> {
    this.abort?.abort();
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.running;
    this.running = undefined;
    for (const resolve of this.syncWaiters) resolve();
    this.syncWaiters.clear();
  }

  /** True once the first list has been applied. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if the informer stops (or `signal` aborts) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted || this.abort?.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.syncWaiters.delete(done);
        resolve(this.synced);
      };
      this.syncWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** The resourceVersion the next watch resumes from. */
  lastSyncResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  private async run(signal: AbortSignal): Promise<void> {
    let needsList = true;
    while (!signal.aborted) {
      let phase: 'list' | 'watch' = 'list';
      try {
        if (needsList) {
          await this.listAndReplace(signal);
          needsList = false;
          this.backoff.reset();
        }
        phase = 'watch';
        const started = this.clock.now();
        const events = await this.watch(signal);
        if (events > 0 || this.clock.now() - started >= SHORT_WATCH_MS) {
          this.backoff.reset();
        } else if (!signal.aborted) {
          // The server closed the watch at once without a word: don't spin on it.
          await sleep(this.clock, this.backoff.next(), signal);
        }
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          // The version we would resume from was compacted away: only a fresh list can tell what changed.
          this.stats.relistsAfterGone += 1;
          this.logger.info(`Relisted ${this.name}: resourceVersion ${this.resourceVersion} is gone (410)`, {
            informer: this.name,
          });
          this.resourceVersion = undefined;
          needsList = true;
          continue;
        }
        this.stats.errors += 1;
        // An API error answer (other than 410) means the watch can't be trusted: relist after the backoff,
        // as client-go's reflector does. A network error keeps the resourceVersion and just watches again.
        if (phase === 'list' || (error instanceof KubeApiError && error.statusCode !== 429)) needsList = true;
        const delay = this.backoff.next();
        this.logger.warn(`Failed to ${phase} ${this.name}; retrying in ${delay} ms`, {
          informer: this.name,
          error: errorMessage(error),
        });
        await sleep(this.clock, delay, signal);
      }
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.listWatch.list({ limit: this.pageSize, continue: continueToken }, signal);
      items.push(...page.items);
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (continueToken);
    if (signal.aborted) return;
    this.stats.lists += 1;
    this.replace(items);
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      this.logger.info(`Synced ${this.name}`, { informer: this.name, objects: this.store.size, resourceVersion });
      for (const resolve of this.syncWaiters) resolve();
      this.syncWaiters.clear();
    }
  }

  /** Makes the cache equal to `items`, telling handlers what changed since the cache last knew. */
  private replace(items: T[]): void {
    const fresh = new Map<string, T>();
    for (const item of items) fresh.set(objectKey(item), item);
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.dispatch('onDelete', (h) => h.onDelete?.(old, true));
      }
    }
    for (const [key, item] of fresh) {
      const old = this.store.get(key);
      this.store.set(key, item);
      if (!old) this.dispatch('onAdd', (h) => h.onAdd?.(item));
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) {
        this.dispatch('onUpdate', (h) => h.onUpdate?.(old, item));
      }
    }
  }

  /** One watch, from the last resourceVersion until the stream ends. Returns the number of events seen. */
  private async watch(signal: AbortSignal): Promise<number> {
    const resourceVersion = this.resourceVersion;
    if (resourceVersion === undefined) throw new Error(`Informer ${this.name} has no resourceVersion to watch from.`);
    const timeoutSeconds = Math.floor(this.minWatchTimeoutSeconds * (1 + this.random()));
    this.stats.watches += 1;
    let events = 0;
    const stream = this.listWatch.watch({ resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, signal);
    for await (const event of stream) {
      if (signal.aborted) break;
      events += 1;
      this.apply(event);
    }
    return events;
  }

  private apply(event: WatchEvent<T>): void {
    switch (event.type) {
      case 'ERROR':
        throw watchError(event.object, this.name);
      case 'BOOKMARK':
        this.stats.bookmarks += 1;
        this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
        return;
      case 'ADDED':
      case 'MODIFIED': {
        this.stats.events += 1;
        const object = event.object;
        const key = objectKey(object);
        const old = this.store.get(key);
        this.store.set(key, object);
        this.resourceVersion = object.metadata.resourceVersion ?? this.resourceVersion;
        if (old) this.dispatch('onUpdate', (h) => h.onUpdate?.(old, object));
        else this.dispatch('onAdd', (h) => h.onAdd?.(object));
        return;
      }
      case 'DELETED': {
        this.stats.events += 1;
        const object = event.object;
        this.store.delete(objectKey(object));
        this.resourceVersion = object.metadata.resourceVersion ?? this.resourceVersion;
        this.dispatch('onDelete', (h) => h.onDelete?.(object, false));
        return;
      }
    }
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs === 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.synced) {
        for (const object of this.store.values()) this.dispatch('onResync', (h) => h.onResync?.(object));
      }
      if (this.abort && !this.abort.signal.aborted) this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  private dispatch(hook: keyof InformerHandler<T>, call: (handler: InformerHandler<T>) => void): void {
    for (const handler of this.handlers) this.call(hook, () => call(handler));
  }

  private call(hook: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger.error(`Handler ${hook} of informer ${this.name} threw`, { informer: this.name, error: errorMessage(error) });
    }
  }
}

/** A ListWatch over the API for `client`'s kind, filling in apiVersion/kind that list items lack. */
export function listWatchFor<T extends KubeObject>(client: ResourceClient<T>, selector: SelectorOptions): ListWatch<T> {
  const apiVersion = apiVersionOf(client.type);
  const kind = client.type.kind;
  return {
    async list(options, signal) {
      const page = await client.list({ ...selector, ...options }, signal);
      for (const item of page.items) {
        item.apiVersion ??= apiVersion;
        item.kind ??= kind;
      }
      return page;
    },
    watch(options, signal) {
      return client.watch({ ...selector, ...options }, signal);
    },
  };
}

function watchError(status: KubeStatus, informer: string): KubeApiError {
  return new KubeApiError(status.code ?? 500, status, 'WATCH', informer);
}
