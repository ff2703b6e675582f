import {
  CONTENT_TYPE_APPLY_PATCH,
  CONTENT_TYPE_JSON_PATCH,
  CONTENT_TYPE_MERGE_PATCH,
  CONTENT_TYPE_STRATEGIC_MERGE_PATCH,
  type KubeClient,
  type QueryValue,
  isNotFound,
} from './kube-client';
import {
  collectionPath,
  type KubeList,
  type KubeObject,
  objectPath,
  type ResourceType,
  type WatchEvent,
} from './resource';

export interface SelectorOptions {
  /** Omit for all namespaces (namespaced kinds) or for a cluster-scoped kind. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListOptions extends SelectorOptions {
  /** Page size; pass `continue` from the previous page's metadata for the next. */
  limit?: number;
  continue?: string;
  /** Unset: a consistent (quorum) read. '0': any cached state. */
  resourceVersion?: string;
}

export interface WatchOptions extends SelectorOptions {
  /** Events after this version; unset or '0' starts with synthetic ADDED events for the current state. */
  resourceVersion?: string;
  /** Ask for BOOKMARK events, which advance the resourceVersion without an object change. */
  allowWatchBookmarks?: boolean;
  /** The server ends the watch after this long. */
  timeoutSeconds?: number;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: CONTENT_TYPE_MERGE_PATCH,
  json: CONTENT_TYPE_JSON_PATCH,
  strategic: CONTENT_TYPE_STRATEGIC_MERGE_PATCH,
  apply: CONTENT_TYPE_APPLY_PATCH,
};

export interface PatchOptions {
  type: PatchType;
  /** Required for `apply`; recorded in managedFields for the others. */
  fieldManager?: string;
  /** `apply` only: take ownership of fields another manager owns instead of failing with a conflict. */
  force?: boolean;
  subresource?: string;
  /** Validate and compute the result without persisting it (`dryRun=All`). */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  /** Delete only this incarnation / version of the object. */
  preconditions?: { uid?: string; resourceVersion?: string };
  signal?: AbortSignal;
}

/** Typed verbs on one kind. */
export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly client: KubeClient,
    readonly type: ResourceType,
  ) {}

  list(options: ListOptions = {}, signal?: AbortSignal): Promise<KubeList<T>> {
    return this.client.request<KubeList<T>>({
      method: 'GET',
      path: collectionPath(this.type, options.namespace),
      query: selectorQuery(options, {
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
      }),
      signal,
    });
  }

  watch(options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    return this.client.watch<T>(
      collectionPath(this.type, options.namespace),
      selectorQuery(options, {
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks,
        timeoutSeconds: options.timeoutSeconds,
      }),
      signal,
    );
  }

  get(name: string, namespace?: string, signal?: AbortSignal): Promise<T> {
    return this.client.request<T>({ method: 'GET', path: objectPath(this.type, name, namespace), signal });
  }

  /** `get`, with a missing object as `undefined`. */
  async find(name: string, namespace?: string, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.get(name, namespace, signal);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  create(object: T, options: { fieldManager?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.client.request<T>({
      method: 'POST',
      path: collectionPath(this.type, object.metadata.namespace),
      query: { fieldManager: options.fieldManager },
      body: this.withTypeMeta(object),
      signal: options.signal,
    });
  }

  /** PUT: fails with 409 Conflict when metadata.resourceVersion is stale. */
  replace(object: T, options: { fieldManager?: string; subresource?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.client.request<T>({
      method: 'PUT',
      path: objectPath(this.type, requireName(object), object.metadata.namespace, options.subresource),
      query: { fieldManager: options.fieldManager },
      body: this.withTypeMeta(object),
      signal: options.signal,
    });
  }

  patch(name: string, namespace: string | undefined, patch: unknown, options: PatchOptions): Promise<T> {
    if (options.type === 'apply' && !options.fieldManager) {
      throw new Error(`Server-side apply of ${this.type.kind} ${name} needs a fieldManager: pass the operator's field manager.`);
    }
    return this.client.request<T>({
      method: 'PATCH',
      path: objectPath(this.type, name, namespace, options.subresource),
      query: {
        fieldManager: options.fieldManager,
        force: options.type === 'apply' ? Boolean(options.force) : undefined,
        dryRun: options.dryRun ? 'All' : undefined,
      },
      body: patch,
      contentType: PATCH_CONTENT_TYPES[options.type],
      signal: options.signal,
    });
  }

  async delete(name: string, namespace?: string, options: DeleteOptions = {}): Promise<void> {
    await this.client.request<unknown>({
      method: 'DELETE',
      path: objectPath(this.type, name, namespace),
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: options.propagationPolicy,
        preconditions: options.preconditions,
      },
      signal: options.signal,
    });
  }

  private withTypeMeta(object: T): T {
    const apiVersion = this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version;
    return { ...object, apiVersion: object.apiVersion ?? apiVersion, kind: object.kind ?? this.type.kind };
  }
}

function selectorQuery(options: SelectorOptions, extra: Record<string, QueryValue>): Record<string, QueryValue> {
  return {
    labelSelector: options.labelSelector || undefined,
    fieldSelector: options.fieldSelector || undefined,
    ...extra,
  };
}

function requireName(object: KubeObject): string {
  if (!object.metadata.name) throw new Error('The object has no metadata.name: set it before replacing.');
  return object.metadata.name;
}
