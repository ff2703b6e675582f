/**
 * Assembles the tenant operator on the controller core: the tenants' informer, label-selected informers for every
 * kind the reconciler creates (drift on watch events), the reconciler, leader election, probes and metrics.
 * `main.ts` wires it to the environment; tests and the bench build it in-process with their own layers.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  ControllerMetrics,
  type Informer,
  type KubeClient,
  type KubeObject,
  type Logger,
  Manager,
  type Request,
  type ResourceType,
  silentLogger,
} from '../controller-core';
import { NAMESPACE_LAYER_KINDS, WORKLOAD_KINDS } from './kinds';
import type { ExternalLayer, IdentityRegistrar } from './layers';
import type { TenantSettings } from './operator-settings';
import { TENANT_LABEL, TENANTS, type RallyForgeTenant } from './tenant-api';
import { TENANT_OBJECTS_SELECTOR } from './tenant-objects';
import { TenantReconciler, type WorkloadRenderer } from './tenant-reconciler';

export const TENANT_CONTROLLER_NAME = 'rallyforgetenant';

export interface TenantOperatorOptions {
  client: KubeClient;
  settings: TenantSettings;
  external: readonly ExternalLayer[];
  identity: IdentityRegistrar;
  workloads?: WorkloadRenderer;
  leaderElection: false | { namespace: string; name: string; identity?: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** /healthz, /readyz (and /metrics); false for none. */
  healthProbe: { port: number; host?: string } | false;
  maxConcurrentReconciles: number;
  registry?: Registry;
  logger?: Logger;
  gracefulShutdownTimeoutMs?: number;
}

export interface TenantOperator {
  manager: Manager;
  registry: Registry;
  reconciler: TenantReconciler;
  /** Runs until `signal` aborts; closes the external connections afterwards. */
  run(signal: AbortSignal): Promise<void>;
}

/** Requests for the tenant an object belongs to (its tenant label). */
export function tenantOf(object: KubeObject): Request[] {
  const tenant = object.metadata.labels?.[TENANT_LABEL];
  return tenant ? [{ name: tenant }] : [];
}

/** Which of `kinds` this API server serves (ServiceMonitor needs the Prometheus Operator's CRD, for example). */
export async function servedKinds(client: KubeClient, kinds: readonly ResourceType[]): Promise<ResourceType[]> {
  const byGroupVersion = new Map<string, Set<string> | undefined>();
  const served: ResourceType[] = [];
  for (const kind of kinds) {
    const groupVersion = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
    if (!byGroupVersion.has(groupVersion)) {
      try {
        const list = await client.request<{ resources: Array<{ name: string }> }>({ method: 'GET', path: groupVersion });
        byGroupVersion.set(groupVersion, new Set(list.resources.map((r) => r.name)));
      } catch {
        byGroupVersion.set(groupVersion, undefined);
      }
    }
    if (byGroupVersion.get(groupVersion)?.has(kind.plural)) served.push(kind);
  }
  return served;
}

export async function createTenantOperator(options: TenantOperatorOptions): Promise<TenantOperator> {
  const registry = options.registry ?? new Registry();
  const logger = options.logger ?? silentLogger;
  const manager = Manager.create({
    client: options.client,
    registry,
    leaderElection: options.leaderElection,
    healthProbe: options.healthProbe,
    gracefulShutdownTimeoutMs: options.gracefulShutdownTimeoutMs,
    logger,
  });
  const wanted = [...NAMESPACE_LAYER_KINDS, ...(options.settings.dedicatedTenants ? WORKLOAD_KINDS : [])];
  const kinds = await servedKinds(options.client, wanted);
  const missing = wanted.filter((k) => !kinds.includes(k));
  if (missing.length) logger.info('Kinds this API server does not serve are skipped', { kinds: missing.map((k) => `${k.kind}.${k.group}`) });

  const selection = { labelSelector: TENANT_OBJECTS_SELECTOR, resyncPeriodMs: 0 };
  const tenantSelection = { resyncPeriodMs: options.settings.resyncPeriodMs, labelSelector: options.settings.tenantSelector || undefined };
  const tenants = manager.informer<RallyForgeTenant>(TENANTS, tenantSelection);
  const caches = new Map<ResourceType, Informer<KubeObject>>(kinds.map((kind) => [kind, manager.informer<KubeObject>(kind, selection)]));
  const reconciler = new TenantReconciler({
    client: options.client,
    applier: manager.applier(),
    events: manager.eventRecorder(),
    settings: options.settings,
    tenants,
    caches,
    external: options.external,
    identity: options.identity,
    workloads: options.workloads,
    logger,
  });
  manager.addController({
    name: TENANT_CONTROLLER_NAME,
    for: { resource: TENANTS, ...tenantSelection },
    watches: kinds.map((resource) => ({ resource, labelSelector: TENANT_OBJECTS_SELECTOR, map: tenantOf })),
    reconciler,
    maxConcurrentReconciles: options.maxConcurrentReconciles,
  });

  return {
    manager,
    registry,
    reconciler,
    async run(signal: AbortSignal): Promise<void> {
      try {
        await manager.start(signal);
      } finally {
        await Promise.allSettled([...options.external.map((layer) => layer.close()), options.identity.close()]);
      }
    },
  };
}

/** A registry with the process metrics as well (production); tests use a bare one. */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  ControllerMetrics.for(registry);
  return registry;
}
