import { KubeApiError, type KubeClient } from './kube-client';
import { apiVersionOf, type KubeObject, type ResourceType } from './resource';
import { ResourceClient } from './resource-client';

/** The field manager of everything the operator applies. */
export const OPERATOR_FIELD_MANAGER = 'rallyforge-operator';
/** The label every object the operator owns carries; its informers select on it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Fields the server owns: an apply configuration must not carry them (managedFields is even rejected). */
const SERVER_POPULATED_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation'] as const;

export interface ApplierOptions {
  client: KubeClient;
  /** @default 'rallyforge-operator' (OPERATOR_FIELD_MANAGER) */
  fieldManager?: string;
  /**
   * Labels merged into every applied object (not into status applies), so that the operator's informers,
   * which watch only what carries its labels, see what it creates.
   * @default { 'app.kubernetes.io/managed-by': <fieldManager> }
   */
  labels?: Record<string, string>;
  /**
   * Take over fields that another manager set. Kubernetes recommends that controllers force on the objects they
   * own: they cannot resolve a conflict, and level-based reconciling means their intent must win.
   * @default true
   * @see https://kubernetes.io/docs/reference/using-api/server-side-apply/#using-server-side-apply-in-a-controller
   */
  force?: boolean;
}

export interface ApplyOptions {
  /** Overrides the Applier's `force` for this call. */
  force?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** One field another manager owns, from a 409 answer to a non-forced apply. */
export interface FieldConflict {
  /** The other field manager, e.g. `kubectl-client-side-apply`. */
  manager?: string;
  /** The field path, e.g. `.data.key`. */
  field?: string;
  message: string;
}

/** A non-forced apply touched fields that other field managers own. */
export class ApplyConflictError extends Error {
  override readonly name = 'ApplyConflictError';

  constructor(
    readonly object: string,
    readonly fieldManager: string,
    readonly conflicts: FieldConflict[],
    override readonly cause: KubeApiError,
  ) {
    super(
      `Applying ${object} as ${fieldManager} conflicts with ${conflicts
        .map((c) => `${c.field ?? '?'} (owned by ${c.manager ?? 'another manager'})`)
        .join(', ')}: apply with force to take these fields over, or stop setting them.`,
    );
  }
}

/**
 * Server-side apply with one field manager: the operator states the fields it wants and the API server merges,
 * tracks ownership in managedFields and removes fields the operator stopped setting. Applying the same
 * configuration again changes nothing (no new resourceVersion), so reconciles may apply unconditionally.
 */
export class Applier {
  readonly fieldManager: string;
  private readonly client: KubeClient;
  private readonly labels: Record<string, string>;
  private readonly force: boolean;

  private constructor(options: ApplierOptions) {
    this.client = options.client;
    this.fieldManager = options.fieldManager ?? OPERATOR_FIELD_MANAGER;
    this.labels = options.labels ?? { [MANAGED_BY_LABEL]: this.fieldManager };
    this.force = options.force ?? true;
  }

  static create(options: ApplierOptions): Applier {
    return new Applier(options);
  }

  /** Applies `desired` (an apply configuration: only the fields the operator owns). Returns the live object. */
  async apply<T extends KubeObject>(resource: ResourceType, desired: T, options: ApplyOptions = {}): Promise<T> {
    const body = this.configuration(resource, desired, true);
    return this.patch(resource, body, undefined, options);
  }

  /** Applies `desired.status` through the status subresource. */
  async applyStatus<T extends KubeObject>(resource: ResourceType, desired: T, options: ApplyOptions = {}): Promise<T> {
    const body = this.configuration(resource, desired, false);
    return this.patch(resource, body, 'status', options);
  }

  private async patch<T extends KubeObject>(
    resource: ResourceType,
    body: T,
    subresource: string | undefined,
    options: ApplyOptions,
  ): Promise<T> {
    const { name, namespace } = body.metadata;
    try {
      return await new ResourceClient<T>(this.client, resource).patch(name as string, namespace, body, {
        type: 'apply',
        fieldManager: this.fieldManager,
        force: options.force ?? this.force,
        subresource,
        dryRun: options.dryRun,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 409) {
        const described = `${resource.kind} ${namespace ? `${namespace}/` : ''}${name}`;
        throw new ApplyConflictError(described, this.fieldManager, parseConflicts(error), error);
      }
      throw error;
    }
  }

  private configuration<T extends KubeObject>(resource: ResourceType, desired: T, withLabels: boolean): T {
    const apiVersion = apiVersionOf(resource);
    const { name, namespace } = desired.metadata;
    if (!name) throw new Error(`An apply configuration for ${resource.kind} needs metadata.name.`);
    if (resource.namespaced && !namespace) {
      throw new Error(`${resource.kind} ${name} is namespaced: set metadata.namespace in its apply configuration.`);
    }
    if ((desired.apiVersion && desired.apiVersion !== apiVersion) || (desired.kind && desired.kind !== resource.kind)) {
      throw new Error(
        `The apply configuration is a ${desired.apiVersion}/${desired.kind}, but it is applied as ` +
          `${apiVersion}/${resource.kind}: pass the matching ResourceType.`,
      );
    }
    const metadata = { ...desired.metadata };
    for (const field of SERVER_POPULATED_METADATA) delete metadata[field];
    if (withLabels) metadata.labels = { ...metadata.labels, ...this.labels };
    return { ...desired, apiVersion, kind: resource.kind, metadata };
  }
}

/** The conflicts in a 409's Status causes: `conflict with "kubectl" using v1` at field `.data.key`. */
function parseConflicts(error: KubeApiError): FieldConflict[] {
  const causes = error.status.details?.causes ?? [];
  const conflicts = causes
    .filter((cause) => !cause.reason || cause.reason === 'FieldManagerConflict')
    .map((cause) => ({
      manager: /conflict with "([^"]+)"/.exec(cause.message ?? '')?.[1],
      field: cause.field,
      message: cause.message ?? '',
    }));
  return conflicts.length > 0 ? conflicts : [{ message: error.status.message ?? error.message }];
}
