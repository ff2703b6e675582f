/**
 * The RallyForgeTenant reconciler, shaped like a kubebuilder reconciler: read the tenant from the cache, converge
 * every layer (Kubernetes namespace, PostgreSQL, RabbitMQ, Redis, identity in auth, dedicated workloads), report
 * one condition per layer plus Ready, and run the deletion policy behind a finalizer.
 *
 * Level-based and idempotent: every reconcile recomputes the whole desired state. Writes to the API server happen
 * only where the cluster differs from it (compared against the informers' caches), so a converged tenant costs no
 * writes; external systems are re-checked on every reconcile, which the periodic resync drives.
 *
 * No ownerReferences from tenant objects to the tenant: a cascade (for example deleting the CRD, which deletes
 * every tenant object) must never delete a namespace and the credentials in it. Objects carry the tenant label;
 * the finalizer removes them deliberately.
 */
import { randomBytes } from 'node:crypto';
import {
  addFinalizer,
  Applier,
  type Clock,
  errorMessage,
  type EventRecorder,
  hasFinalizer,
  type Informer,
  isBeingDeleted,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type Logger,
  NAMESPACES,
  objectKey,
  type ReconcileResult,
  type Reconciler,
  removeFinalizer,
  type Request,
  ResourceClient,
  type ResourceType,
  SECRETS,
  silentLogger,
  systemClock,
  ApplyConflictError,
  KubeApiError,
} from '../controller-core';
import { findCondition, setCondition, type ConditionInput } from './conditions';
import { decodeSecretData, generatePasswords, passwordEntries, readPasswords, type TenantPasswords } from './credentials';
import { DEPLOYMENTS, kindOf, WORKLOAD_KINDS } from './kinds';
import { LayerError, REGISTRATION_INVALID, type ExternalLayer, type IdentityRegistrar, type TenantTarget } from './layers';
import { firstDifference } from './object-diff';
import type { TenantSettings } from './operator-settings';
import {
  CUSTOM_RESOURCE_DEFINITIONS,
  LAYER_CONDITIONS,
  TENANT_CRD_NAME,
  TENANT_FINALIZER,
  TENANT_LABEL,
  TENANTS,
  type ConditionType,
  type RallyForgeTenant,
  type TenantCondition,
  type TenantPhase,
} from './tenant-api';
import { CREDENTIALS_SECRET, namespaceObjects, tenantLabels, tenantNamespace, type DesiredObject } from './tenant-objects';

/** False conditions that are a step of provisioning rather than a failure (no Warning Event for a new tenant). */
const PROGRESSING_REASONS: readonly string[] = ['DeploymentsNotAvailable'];

/** Annotation on the tenant: change its value to have the operator generate new passwords for every layer. */
export const ROTATE_CREDENTIALS_ANNOTATION = 'rallyforge.io/rotate-credentials';
const ROTATION_KEY = 'CREDENTIALS_ROTATION';

/** Renders the dedicated tier's workloads (the five services) for one tenant; see @rallyforge/cdk8s. */
export type WorkloadRenderer = (input: { tenant: RallyForgeTenant; namespace: string; credentialsSecret: string; suspended: boolean }) => KubeObject[];

export interface TenantReconcilerOptions {
  client: KubeClient;
  applier: Applier;
  events: EventRecorder;
  settings: TenantSettings;
  /** The tenants' informer (the controller's `for`). */
  tenants: Informer<RallyForgeTenant>;
  /** The label-selected informers of every kind the reconciler creates, by kind (see kinds.ts). */
  caches: ReadonlyMap<ResourceType, Informer<KubeObject>>;
  external: readonly ExternalLayer[];
  identity: IdentityRegistrar;
  workloads?: WorkloadRenderer;
  clock?: Clock;
  logger?: Logger;
}

interface Outcome {
  conditions: TenantCondition[];
  failed: ConditionType[];
}

export class TenantReconciler implements Reconciler {
  private readonly tenantClient: ResourceClient<RallyForgeTenant>;
  private readonly clock: Clock;
  private readonly logger: Logger;

  /**
   * The condition states this process last reported (and recorded Events for), per tenant incarnation (uid). The
   * informer may not show our own status write yet when the next reconcile runs (a child's watch event queues one
   * at once), and deciding from the cache would record the same Event twice.
   */
  private readonly announced = new Map<string, Map<string, { status: string; reason: string }>>();
  /** The last status written per tenant, and the resourceVersion of the tenant it was computed from (statusOf). */
  private readonly written = new Map<string, { basedOn: ReadonlySet<string | undefined>; status: unknown }>();

  constructor(private readonly options: TenantReconcilerOptions) {
    this.tenantClient = new ResourceClient<RallyForgeTenant>(options.client, TENANTS);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  async reconcile(request: Request, signal: AbortSignal): Promise<ReconcileResult | void> {
    let tenant = this.options.tenants.get(request.name);
    if (!tenant) return; // gone: its finalizer already ran
    if (isBeingDeleted(tenant)) return this.finalize(tenant, signal);
    const cachedVersion = tenant.metadata.resourceVersion;
    if (!hasFinalizer(tenant, TENANT_FINALIZER)) {
      tenant = await addFinalizer(this.tenantClient, tenant, TENANT_FINALIZER, signal);
    }
    const outcome = await this.converge(tenant, signal);
    await this.writeStatus(tenant, outcome.conditions, this.phaseOf(tenant, outcome), signal, cachedVersion);
    // A failing layer is retried with the controller's per-tenant exponential backoff; a healthy tenant waits for
    // the next change or resync.
    return outcome.failed.length ? { requeue: true } : undefined;
  }

  // ---- converge ------------------------------------------------------------------------------------------------

  private async converge(tenant: RallyForgeTenant, signal: AbortSignal): Promise<Outcome> {
    const id = tenant.metadata.name!;
    const generation = tenant.metadata.generation ?? 0;
    const now = new Date(this.clock.now());
    const namespace = tenantNamespace(id, this.options.settings);
    const target: TenantTarget = { tenantId: id, tier: tenant.spec.tier, suspended: Boolean(tenant.spec.suspend) };
    let conditions = [...(this.statusOf(tenant)?.conditions ?? [])];
    const failed: ConditionType[] = [];
    const set = (input: ConditionInput): void => {
      const before = this.lastAnnounced(tenant, input.type);
      this.announce(tenant, input.type, input);
      conditions = setCondition(conditions, input, generation, now);
      if (input.status === 'False') failed.push(input.type);
      // Events for what a human would want to know: a layer failing (or failing differently) and a layer back after a
      // failure. A new tenant's layers coming up are summed up by the one Ready event (Events are API writes too).
      // A new tenant's Deployments starting up is progress, not a failure worth a Warning.
      const progressing = before === undefined && PROGRESSING_REASONS.includes(input.reason);
      const failing = input.status === 'False' && !progressing && (before?.status !== 'False' || before.reason !== input.reason);
      const recovered = input.status === 'True' && before?.status === 'False';
      if (failing || recovered) {
        this.options.events.record(tenant, failing ? 'Warning' : 'Normal', input.reason, `${input.type}: ${input.message}`);
      }
    };

    // Credentials: the passwords live in the tenant's Secret; generated once (or on a rotation request).
    const existing = await this.currentSecretData(namespace, tenant.spec.tier, signal);
    const rotation = tenant.metadata.annotations?.[ROTATE_CREDENTIALS_ANNOTATION] ?? '';
    let passwords: TenantPasswords | undefined;
    if (tenant.spec.tier === 'dedicated') {
      passwords = existing?.[ROTATION_KEY] === rotation || (!existing?.[ROTATION_KEY] && !rotation) ? readPasswords(existing) : undefined;
      if (!passwords) {
        passwords = generatePasswords();
        if (existing) this.options.events.record(tenant, 'Normal', 'CredentialsRotated', 'Generated new passwords for the tenant\'s database, vhost and Redis users.');
      }
    }

    // External systems first: their connection strings go into the Secret.
    const connection: Record<string, string> = {};
    for (const layer of this.options.external) {
      try {
        Object.assign(connection, await this.ensureAndVerify(layer, target, passwords as TenantPasswords, signal));
        set({
          type: layer.condition,
          status: 'True',
          reason: tenant.spec.tier === 'dedicated' ? 'Provisioned' : 'SharedPlatformVerified',
          message:
            tenant.spec.tier === 'dedicated'
              ? `${layer.system}: provisioned and verified with the tenant's own credentials.`
              : `${layer.system}: the platform's shared ${layer.system} is reachable and isolates tenants.`,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        set(failure(layer.condition, error, `${layer.system}Unavailable`, `${layer.system} could not be provisioned or verified`));
      }
    }

    // Kubernetes: namespace, quota, limits, network policies, RBAC, the credentials Secret.
    const secretData: Record<string, string> = {
      // Keep what an earlier reconcile stored when a layer fails now: never drop working connection strings.
      ...pick(existing, (key) => key.endsWith('_URL')),
      ...connection,
      TENANT_ID: id,
      REDIS_KEY_PREFIX: `t:${id}:`,
      ...(passwords ? { ...passwordEntries(passwords), [ROTATION_KEY]: rotation } : {}),
    };
    if (tenant.spec.tier === 'dedicated') {
      // Auth in the tenant's namespace encrypts its signing keys with a key of the tenant's own.
      secretData.AUTH_KEY_ENCRYPTION_KEY = existing?.AUTH_KEY_ENCRYPTION_KEY || randomBytes(32).toString('base64');
    }
    try {
      await this.applyAll(namespaceObjects(tenant, this.options.settings, secretData), signal);
      set({ type: 'Namespace', status: 'True', reason: 'Applied', message: `Namespace ${namespace} with its quota, limits, network policies, RBAC and credentials Secret.` });
    } catch (error) {
      if (signal.aborted) throw error;
      set(failure('Namespace', error, 'ApplyFailed', `applying the objects of namespace ${namespace} failed`));
    }

    // Identity: the organisation in auth, its registration mode, its admins invited.
    try {
      const summary = await this.options.identity.register(
        {
          tenantId: id,
          displayName: tenant.spec.displayName,
          registration: tenant.spec.registration ?? 'invite',
          admins: tenant.spec.admins,
          suspended: Boolean(tenant.spec.suspend),
          // Always sent, empty when spec.quota sets none: auth keeps its stored limits when `limits` is absent,
          // so leaving it out would keep the limits of an earlier spec after they were removed from this one.
          limits: stripUndefined({
            apiRequestsPerMinute: tenant.spec.quota?.apiRequestsPerMinute,
            users: tenant.spec.quota?.users,
            documentStorageBytes: tenant.spec.quota?.documentStorageBytes,
          }),
        },
        signal,
      );
      set({ type: 'Identity', status: 'True', reason: 'Registered', message: summary });
    } catch (error) {
      if (signal.aborted) throw error;
      set(failure('Identity', error, 'AuthUnavailable', 'registering the organisation with auth over the bus failed'));
    }

    // Workloads: the platform serves a shared tenant; a dedicated one gets its own five services.
    if (tenant.spec.tier === 'shared') {
      set({ type: 'Workloads', status: 'True', reason: 'SharedPlatform', message: 'Served by the platform\'s services (shared tier).' });
    } else {
      set(await this.convergeWorkloads(tenant, namespace, Boolean(tenant.spec.suspend), signal));
    }

    const notReady = LAYER_CONDITIONS.filter((type) => findCondition(conditions, type)?.status !== 'True');
    conditions = setCondition(
      conditions,
      notReady.length
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'LayersNotReady',
            message: notReady.map((type) => `${type}: ${findCondition(conditions, type)?.message ?? 'not reconciled yet'}`).join(' | '),
          }
        : { type: 'Ready', status: 'True', reason: 'AllLayersReady', message: tenant.spec.suspend ? 'Every layer is provisioned; the tenant is suspended.' : 'Every layer is provisioned and verified.' },
      generation,
      now,
    );
    const ready = findCondition(conditions, 'Ready')!;
    if (ready.status === 'True' && this.lastAnnounced(tenant, 'Ready')?.status !== 'True') {
      this.options.events.record(tenant, 'Normal', 'Ready', 'Every layer is provisioned and verified.');
    }
    this.announce(tenant, 'Ready', ready);
    return { conditions, failed };
  }

  private async convergeWorkloads(tenant: RallyForgeTenant, namespace: string, suspended: boolean, signal: AbortSignal): Promise<ConditionInput> {
    if (!this.options.settings.dedicatedTenants || !this.options.workloads) {
      return {
        type: 'Workloads',
        status: 'False',
        reason: 'DedicatedTierDisabled',
        message: 'This operator runs with DEDICATED_TENANTS=false: set it to true (operator chart value dedicatedTenants.enabled) to deploy dedicated tenants.',
      };
    }
    try {
      const rendered = this.options.workloads({ tenant, namespace, credentialsSecret: CREDENTIALS_SECRET, suspended });
      const labels = tenantLabels(tenant);
      const desired: DesiredObject[] = [];
      for (const object of rendered) {
        const resource = kindOf(object.apiVersion ?? '', object.kind ?? '');
        if (!this.options.caches.has(resource)) continue; // an API this cluster doesn't serve (e.g. ServiceMonitor without Prometheus Operator)
        desired.push({
          resource,
          object: { ...object, metadata: { ...object.metadata, namespace, labels: { ...object.metadata.labels, ...labels } } } as DesiredObject['object'],
        });
      }
      await this.applyAll(desired, signal);
      await this.prune(tenant, namespace, desired, WORKLOAD_KINDS, signal);
      const deployments = desired.filter((d) => d.resource === DEPLOYMENTS);
      const waiting = deployments
        .map((d) => this.cached(DEPLOYMENTS, d.object) as (KubeObject & { spec?: { replicas?: number }; status?: { conditions?: Array<{ type: string; status: string }>; availableReplicas?: number } }) | undefined)
        .filter((live, i) => !live || !deploymentAvailable(live, (deployments[i]!.object as { spec?: { replicas?: number } }).spec?.replicas))
        .map((_, i) => deployments[i]!.object.metadata.name);
      if (waiting.length) {
        return { type: 'Workloads', status: 'False', reason: 'DeploymentsNotAvailable', message: `Waiting for ${waiting.join(', ')} in ${namespace} to become Available (kubectl -n ${namespace} get deploy,pods).` };
      }
      return {
        type: 'Workloads',
        status: 'True',
        reason: suspended ? 'ScaledToZero' : 'Available',
        message: suspended ? `The tenant is suspended: its ${deployments.length} Deployments are scaled to zero.` : `${deployments.length} Deployments available in ${namespace}.`,
      };
    } catch (error) {
      if (signal.aborted) throw error;
      return failure('Workloads', error, 'ApplyFailed', `applying the dedicated workloads in ${namespace} failed`);
    }
  }

  /**
   * ensure, then verify. When ensure succeeded (the system answers) but verify finds drift, the drift happened
   * between the two (someone revoked a permission mid-reconcile) or ensure could not fix it: one more ensure and
   * verify tell which, instead of reporting Ready False for a moment the next reconcile would take back.
   */
  private async ensureAndVerify(layer: ExternalLayer, target: TenantTarget, passwords: TenantPasswords, signal: AbortSignal): Promise<Record<string, string>> {
    const connection = await layer.ensure(target, passwords, signal);
    try {
      await layer.verify(target, passwords, signal);
      return connection;
    } catch (error) {
      if (signal.aborted) throw error;
      this.logger.info('Verification found drift after provisioning; provisioning once more', { tenant: target.tenantId, layer: layer.system, error: errorMessage(error) });
      const again = await layer.ensure(target, passwords, signal);
      await layer.verify(target, passwords, signal);
      return again;
    }
  }

  private lastAnnounced(tenant: RallyForgeTenant, type: string): { status: string; reason: string } | undefined {
    return this.announced.get(tenant.metadata.uid ?? tenant.metadata.name!)?.get(type) ?? findCondition(this.statusOf(tenant)?.conditions, type as ConditionType);
  }

  private announce(tenant: RallyForgeTenant, type: string, condition: { status: string; reason: string }): void {
    const key = tenant.metadata.uid ?? tenant.metadata.name!;
    let byType = this.announced.get(key);
    if (!byType) this.announced.set(key, (byType = new Map()));
    byType.set(type, { status: condition.status, reason: condition.reason });
  }

  // ---- deletion ------------------------------------------------------------------------------------------------

  private async finalize(tenant: RallyForgeTenant, signal: AbortSignal): Promise<ReconcileResult | void> {
    if (!hasFinalizer(tenant, TENANT_FINALIZER)) return;
    const id = tenant.metadata.name!;
    const namespace = tenantNamespace(id, this.options.settings);
    if (await this.crdBeingDeleted(signal)) {
      // Deleting the CRD deletes every tenant object: that is never a request to delete tenants' data.
      this.options.events.record(tenant, 'Warning', 'DefinitionDeleted',
        `The RallyForgeTenant CRD is being deleted: tenant ${id}'s namespace, credentials and data are kept. Re-create the CRD and the tenant to adopt them.`);
      await removeFinalizer(this.tenantClient, tenant, TENANT_FINALIZER, signal);
      return;
    }
    const policy = tenant.spec.deletionPolicy ?? 'Retain';
    const target: TenantTarget = { tenantId: id, tier: tenant.spec.tier, suspended: true };
    const failures: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>): Promise<void> => {
      try {
        await step();
      } catch (error) {
        if (signal.aborted) throw error;
        failures.push(`${what}: ${errorMessage(error)}`);
      }
    };

    await attempt('identity (auth)', () => this.options.identity.deprovision(id, policy === 'Delete' ? 'delete' : 'retain', signal));
    for (const layer of this.options.external) {
      await attempt(layer.system, () => (policy === 'Delete' ? layer.remove(target, signal) : layer.retain(target, signal)));
    }
    if (policy === 'Delete') {
      await attempt(`namespace ${namespace}`, () => this.deleteIfPresent(NAMESPACES, namespace, undefined, signal));
    } else {
      // Retain keeps the namespace and its credentials Secret (the data's keys); only the workloads go.
      await attempt('workloads', () => this.prune(tenant, namespace, [], WORKLOAD_KINDS, signal));
    }

    const now = this.clock.now();
    const deletedAt = Date.parse(tenant.metadata.deletionTimestamp!);
    if (failures.length) {
      const overdue = now - deletedAt > this.options.settings.deletionTimeoutMs;
      // The layers' messages are sentences already: end the list with one period, not a second one.
      const listed = `Deleting with deletionPolicy ${policy} failed: ${failures.join(' | ')}`;
      const message = /[.!?]$/.test(listed) ? listed : `${listed}.`;
      if (!overdue) {
        this.options.events.record(tenant, 'Warning', 'CleanupFailed', `${message} Retrying with backoff.`);
        const conditions = setCondition(this.statusOf(tenant)?.conditions ?? [], { type: 'Ready', status: 'False', reason: 'CleanupFailed', message: `${message} Retrying; the finalizer comes off after ${Math.round(this.options.settings.deletionTimeoutMs / 1000)} s at most.` }, tenant.metadata.generation ?? 0, new Date(now));
        await this.writeStatus(tenant, conditions, 'Deleting', signal);
        return { requeue: true };
      }
      this.options.events.record(tenant, 'Warning', 'CleanupAbandoned', `${message} Gave up after ${Math.round(this.options.settings.deletionTimeoutMs / 1000)} s: clean these up by hand.`);
      this.logger.error('tenant cleanup abandoned', { tenant: id, failures });
    } else {
      this.options.events.record(tenant, 'Normal', policy === 'Delete' ? 'Deleted' : 'Retained',
        policy === 'Delete' ? `Removed namespace ${namespace}, the tenant's databases, vhost, Redis user and organisation.` : `Kept the tenant's data with logins disabled; namespace ${namespace} keeps its credentials.`);
    }
    await removeFinalizer(this.tenantClient, tenant, TENANT_FINALIZER, signal);
    this.announced.delete(tenant.metadata.uid ?? id);
    this.written.delete(id);
  }

  private async crdBeingDeleted(signal: AbortSignal): Promise<boolean> {
    try {
      const crd = await new ResourceClient<KubeObject>(this.options.client, CUSTOM_RESOURCE_DEFINITIONS).get(TENANT_CRD_NAME, undefined, signal);
      return Boolean(crd.metadata.deletionTimestamp);
    } catch (error) {
      if (isNotFound(error)) return true;
      throw error;
    }
  }

  // ---- Kubernetes plumbing -------------------------------------------------------------------------------------

  /** Applies the objects that differ from the cache (or are missing from it). */
  private async applyAll(desired: readonly DesiredObject[], signal: AbortSignal): Promise<void> {
    for (const { resource, object } of desired) {
      const live = this.cached(resource, object);
      const differs = live ? firstDifference(object, live) : 'missing';
      if (differs === undefined) continue;
      this.logger.debug('Applying an object that differs from the cluster', { kind: resource.kind, object: objectKey(object), field: differs });
      await this.options.applier.apply(resource, object, { signal });
    }
  }

  /** Deletes this tenant's objects of `kinds` in its namespace that are no longer desired. */
  private async prune(tenant: RallyForgeTenant, namespace: string, desired: readonly DesiredObject[], kinds: readonly ResourceType[], signal: AbortSignal): Promise<void> {
    const wanted = new Set(desired.map((d) => `${d.resource.kind}/${objectKey(d.object)}`));
    for (const kind of kinds) {
      const cache = this.options.caches.get(kind);
      if (!cache) continue;
      for (const live of cache.list()) {
        if (live.metadata.namespace !== namespace || live.metadata.labels?.[TENANT_LABEL] !== tenant.metadata.name) continue;
        if (wanted.has(`${kind.kind}/${objectKey(live)}`)) continue;
        await this.deleteIfPresent(kind, live.metadata.name!, namespace, signal);
      }
    }
  }

  private async deleteIfPresent(kind: ResourceType, name: string, namespace: string | undefined, signal: AbortSignal): Promise<void> {
    try {
      await new ResourceClient(this.options.client, kind).delete(name, namespace, { propagationPolicy: 'Background', signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private cached(resource: ResourceType, object: KubeObject): KubeObject | undefined {
    return this.options.caches.get(resource)?.get(objectKey(object));
  }

  /**
   * The tenant Secret's data: from the cache, else (just created, or the cache is behind) from the API server. A
   * shared tenant's Secret holds nothing that cannot be recomputed (no passwords), so a cache miss is taken as is:
   * one GET less for every new shared tenant.
   */
  private async currentSecretData(namespace: string, tier: RallyForgeTenant['spec']['tier'], signal: AbortSignal): Promise<Record<string, string> | undefined> {
    const key = `${namespace}/${CREDENTIALS_SECRET}`;
    let secret = this.options.caches.get(SECRETS)?.get(key) as (KubeObject & { data?: Record<string, string> }) | undefined;
    if (!secret && tier === 'dedicated') {
      secret = await new ResourceClient<KubeObject & { data?: Record<string, string> }>(this.options.client, SECRETS).find(CREDENTIALS_SECRET, namespace, signal);
    }
    return secret ? decodeSecretData(secret.data) : undefined;
  }

  private phaseOf(tenant: RallyForgeTenant, outcome: Outcome): TenantPhase {
    const ready = findCondition(outcome.conditions, 'Ready')?.status === 'True';
    if (ready) return tenant.spec.suspend ? 'Suspended' : 'Ready';
    // Failed: a layer failed for a reason that retrying won't fix by itself (configuration), else Provisioning.
    const permanent = outcome.conditions.some((c) => c.status === 'False' && ['DedicatedTierDisabled', 'ApplyRejected', REGISTRATION_INVALID].includes(c.reason));
    return permanent ? 'Failed' : 'Provisioning';
  }

  /** Writes status only when it changed (a converged tenant costs no writes). */
  private async writeStatus(tenant: RallyForgeTenant, conditions: TenantCondition[], phase: TenantPhase, signal: AbortSignal, cachedVersion?: string): Promise<void> {
    const id = tenant.metadata.name!;
    const namespace = tenantNamespace(id, this.options.settings);
    const status = {
      phase,
      observedGeneration: tenant.metadata.generation ?? 0,
      conditions: [...conditions].sort((a, b) => order(a.type) - order(b.type)),
      namespace,
      credentialsSecret: { namespace, name: CREDENTIALS_SECRET },
    };
    const current = this.statusOf(tenant);
    const differs = current ? firstDifference(status, current) : 'status';
    if (differs === undefined && (current?.conditions?.length ?? 0) === status.conditions.length) return;
    this.logger.debug('Writing the tenant status', {
      tenant: id,
      field: differs ?? 'status.conditions',
      phase,
      notTrue: status.conditions.filter((c) => c.status !== 'True').map((c) => `${c.type}:${c.reason}`),
    });
    await this.options.applier.applyStatus(TENANTS, { apiVersion: `${TENANTS.group}/${TENANTS.version}`, kind: TENANTS.kind, metadata: { name: id }, status } as KubeObject, { signal });
    // Both the version read from the cache and the one the finalizer patch returned: either may still be cached.
    this.written.set(id, { basedOn: new Set([cachedVersion, tenant.metadata.resourceVersion]), status });
  }

  /**
   * The tenant's status as this process knows it: what it last wrote, while the cache still holds the very version
   * that write was computed from (the write's watch event has not arrived yet); else the cache's. Without it, a
   * reconcile queued right behind the write (a child's watch event) would recompute every condition from the old
   * status, with new transition times, and write again.
   */
  private statusOf(tenant: RallyForgeTenant): RallyForgeTenant['status'] {
    const written = this.written.get(tenant.metadata.name!);
    return written?.basedOn.has(tenant.metadata.resourceVersion) ? (written.status as RallyForgeTenant['status']) : tenant.status;
  }
}

const CONDITION_ORDER: readonly string[] = [...LAYER_CONDITIONS, 'Ready'];
function order(type: string): number {
  const i = CONDITION_ORDER.indexOf(type);
  return i < 0 ? CONDITION_ORDER.length : i;
}

/** The cause the API server's NamespaceLifecycle admission gives when it refuses content in a terminating namespace. */
const NAMESPACE_TERMINATING = 'NamespaceTerminating';

function failure(type: ConditionType, error: unknown, fallbackReason: string, what: string): ConditionInput {
  if (error instanceof LayerError) return { type, status: 'False', reason: error.reason, message: error.message };
  if (error instanceof ApplyConflictError) return { type, status: 'False', reason: 'ApplyConflict', message: error.message };
  if (error instanceof KubeApiError) {
    // Also a 403, but no RBAC problem: the namespace is going away (a tenant of this name was deleted with policy
    // Delete, or someone deleted it). Once it is gone the next attempt creates it again.
    if (error.statusCode === 403 && error.status.details?.causes?.some((c) => c.reason === NAMESPACE_TERMINATING)) {
      return { type, status: 'False', reason: NAMESPACE_TERMINATING, message: `${what}: the namespace is still being deleted; the operator creates it again once it is gone (retrying with backoff).` };
    }
    if (error.statusCode === 403) return { type, status: 'False', reason: 'Forbidden', message: `${what}: ${error.message}. Check the operator's RBAC (charts/rallyforge-operator).` };
    if (error.statusCode === 422 || error.statusCode === 400) return { type, status: 'False', reason: 'ApplyRejected', message: `${what}: the API server refused it: ${error.message}` };
    return { type, status: 'False', reason: fallbackReason, message: `${what}: ${error.message}. Retrying with backoff.` };
  }
  const reason = (error as { reason?: unknown })?.reason;
  if (typeof reason === 'string' && /^[A-Za-z][A-Za-z0-9]*$/.test(reason)) {
    return { type, status: 'False', reason, message: `${what}: ${errorMessage(error)}` };
  }
  return { type, status: 'False', reason: fallbackReason, message: `${what}: ${errorMessage(error)}. Retrying with backoff.` };
}

/**
 * Whether the Deployment serves: its Available condition, or at least one available pod. Not gated on
 * observedGeneration or on full availability: the HPA scales a new tenant's Deployments from 1 to its minimum right
 * away (Available is False until the new pods are ready), and a rolling update keeps serving from the old pods;
 * neither is an outage, and calling it one would flap the tenant's status.
 */
function deploymentAvailable(
  live: KubeObject & { status?: { conditions?: Array<{ type: string; status: string }>; availableReplicas?: number } },
  replicas: number | undefined,
): boolean {
  if (replicas === 0) return true;
  return (live.status?.availableReplicas ?? 0) > 0 || (live.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false);
}

function pick(record: Record<string, string> | undefined, keep: (key: string) => boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([key]) => keep(key)));
}

function stripUndefined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
