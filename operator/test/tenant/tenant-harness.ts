/**
 * Everything a tenant-operator integration spec needs, all real: the local kube-apiserver with the CRD installed,
 * the local PostgreSQL, RabbitMQ and Redis through the operator's own provisioners, and the auth service (booted
 * in-process on a fresh database and vhost) answering the operator's registration over the bus.
 *
 * Each harness labels its tenants `rallyforge.io/test-run=<id>` and runs operators that select only those, so
 * spec files (and a developer's `npm run up` operator, which ignores test tenants) never reconcile each other's.
 */
import { randomBytes } from 'node:crypto';
import { tenantCustomResourceDefinition } from '@rallyforge/cdk8s';
import { createEnvironment, startAuth, type AuthEnvironment, type RunningAuth } from '@rallyforge/auth/test/auth-harness';
import {
  Applier, CLUSTER_SCOPED_EVENT_NAMESPACE, EVENTS, jsonLogger, NAMESPACES, ResourceClient, silentLogger, type KubeClient, type KubeObject, type Logger,
} from '../../src/controller-core';
import { createExternalLayers, type ExternalSystemsConfig } from '../../src/tenant/external';
import { BusIdentityRegistrar } from '../../src/tenant/identity';
import type { ExternalLayer, IdentityRegistrar } from '../../src/tenant/layers';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../src/tenant/operator-settings';
import { CUSTOM_RESOURCE_DEFINITIONS, TENANTS, type RallyForgeTenant, type RallyForgeTenantSpec, type TenantCondition } from '../../src/tenant/tenant-api';
import { tenantNamespace } from '../../src/tenant/tenant-objects';
import { createTenantOperator, type TenantOperator } from '../../src/tenant/tenant-operator';
import type { WorkloadRenderer } from '../../src/tenant/tenant-reconciler';
import { cdk8sWorkloadRenderer } from '../../src/tenant/workloads';
import { connectTestCluster, connectTestClusterAt, eventually, type TestCluster } from '../support/test-cluster';

export const TEST_RUN_LABEL = 'rallyforge.io/test-run';
/** How long a spec waits for a tenant to converge by default: the machine is small and shared. */
export const CONVERGE_TIMEOUT_MS = 90_000;
/** A dedicated tenant's five Deployments also have to be scheduled and become Available on kwok. */
export const DEDICATED_CONVERGE_TIMEOUT_MS = 180_000;
/** Leader election timings of the test operators (lease > renew deadline > 1.2 × retry): a takeover takes seconds. */
export const TEST_LEASE = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 } as const;
/** Images of the dedicated workloads: kwok never pulls them, so any well-formed reference does. */
const TEST_IMAGE = { registry: 'registry.test.invalid', repositoryPrefix: 'rallyforge', tag: 'test' };

export interface RunningTestOperator {
  operator: TenantOperator;
  /** Stops it gracefully (or abruptly with `hard`, as a killed process would: no grace period, no lease release). */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Whether stop() was called (or the operator ended by itself). */
  readonly stopped: boolean;
  done: Promise<unknown>;
}

export interface StartOperatorOptions {
  /** The operator's external layers; default: the real provisioners on `externalConfig` (see `configure`). */
  external?: readonly ExternalLayer[];
  /** Changes to the harness's external-systems configuration for this operator only (e.g. a closed port). */
  configure?: (config: ExternalSystemsConfig) => ExternalSystemsConfig;
  identity?: IdentityRegistrar;
  settings?: Partial<TenantSettings>;
  leaderElection?: boolean;
  /** The Lease's name (the operator chart's Role allows exactly one); default: one per harness run. */
  leaseName?: string;
  identityName?: string;
  /** Renders the dedicated tier's workloads; default: the production renderer (cdk8s constructs). */
  workloads?: WorkloadRenderer;
  /** How long one shared-tier check serves every shared tenant. @default the provisioners' (10 s) */
  sharedCheckTtlMs?: number;
  /** The operator's API client; default: the harness's. */
  client?: KubeClient;
}

export interface TenantHarness {
  cluster: TestCluster;
  runId: string;
  auth: RunningAuth;
  authEnv: AuthEnvironment;
  externalConfig: ExternalSystemsConfig;
  settings: TenantSettings;
  tenants: ResourceClient<RallyForgeTenant>;
  /** A unique tenant id for this run. */
  tenantId(label: string): string;
  manifest(name: string, spec: Partial<RallyForgeTenantSpec>, extra?: { deletionPolicy?: 'Retain' | 'Delete' }): RallyForgeTenant;
  create(tenant: RallyForgeTenant): Promise<RallyForgeTenant>;
  waitForCondition(name: string, type: string, status: 'True' | 'False', timeoutMs?: number, reason?: string): Promise<RallyForgeTenant>;
  /** Waits until `probe` accepts the tenant (its status reflecting its current generation). */
  waitForTenant(name: string, what: string, probe: (tenant: RallyForgeTenant) => boolean, timeoutMs?: number): Promise<RallyForgeTenant>;
  waitForGone(name: string, timeoutMs?: number): Promise<void>;
  /** Events the operator recorded about the tenant (reason and message). */
  events(name: string): Promise<Array<{ type: string; reason: string; message: string; count: number; host?: string }>>;
  startOperator(options?: StartOperatorOptions): Promise<RunningTestOperator>;
  /**
   * Removes whatever a tenant may have left behind (its namespace, databases, roles, vhost, users, ACL user, keys,
   * organisation), whatever its deletion policy was: specs of Retain call it, and close() does for every tenant.
   */
  purge(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Installs (server-side apply) the CRD the operator chart ships, and waits until it is Established. */
export async function installCrd(cluster: TestCluster): Promise<void> {
  const crd = tenantCustomResourceDefinition() as unknown as KubeObject;
  await Applier.create({ client: cluster.client, fieldManager: 'rallyforge-test' }).apply(CUSTOM_RESOURCE_DEFINITIONS, crd);
  const crds = new ResourceClient<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(cluster.client, CUSTOM_RESOURCE_DEFINITIONS);
  await eventually(
    async () => (await crds.get(crd.metadata.name!)).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    30_000,
    'the RallyForgeTenant CRD to be Established',
  );
}

/**
 * The operator's external-systems configuration for the servers jest's global setup started (their admin URLs
 * arrive in RF_TEST_*, whether local servers or containers), as external-test-env.ts reads them.
 */
export function localExternalConfig(platformDatabases: string[], platformVhost: string): ExternalSystemsConfig {
  const pgAdminUrl = required('RF_TEST_PG_URL');
  const redisAdminUrl = required('RF_TEST_REDIS_URL');
  const amqp = new URL(required('RF_TEST_AMQP_URL'));
  const management = new URL(required('RF_TEST_RABBIT_MGMT_URL'));
  const redis = new URL(redisAdminUrl);
  const amqpBase = `${amqp.protocol}//${amqp.host}`;
  return {
    postgres: { adminUrl: pgAdminUrl, tenantUrl: `postgres://${new URL(pgAdminUrl).host}`, platformDatabases },
    rabbitmq: {
      managementUrl: `${management.protocol}//${management.host}`,
      adminUser: decodeURIComponent(management.username),
      adminPassword: decodeURIComponent(management.password),
      amqpUrl: amqpBase,
      tenantUrl: amqpBase,
      platformVhost,
    },
    redis: { adminUrl: redisAdminUrl, tenantUrl: `redis://${redis.host}${redis.pathname}` },
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 15_000,
  };
}

/** RF_TEST_OPERATOR_LOG=debug|info|... prints the test operators' logs (JSON lines on stderr); silent by default. */
function operatorLogger(runId: string, identity?: string): Logger {
  const level = process.env.RF_TEST_OPERATOR_LOG;
  if (!level) return silentLogger;
  return jsonLogger({ component: 'test-operator', run: runId, ...(identity ? { identity } : {}) }, level as Parameters<typeof jsonLogger>[1]);
}

/**
 * What a SIGKILL does to a running operator, as closely as an in-process one can get: in-flight reconciles are
 * aborted at once (no graceful shutdown period) and the lease is left to expire (no release), so a standby must
 * wait for it as it would after a crash. The Manager has no such switch (a real process just dies), hence the
 * reach into its internals.
 */
function armForKill(operator: TenantOperator): void {
  const manager = operator.manager as unknown as {
    options: { gracefulShutdownTimeoutMs?: number };
    elector?: { releaseOnCancel: boolean };
  };
  manager.options.gracefulShutdownTimeoutMs = 0;
  if (manager.elector) manager.elector.releaseOnCancel = false;
}

export interface TenantHarnessOptions {
  /** The kubeconfig of another control plane than the shared local one (see startPrivateCluster). */
  kubeconfig?: string;
}

export async function createTenantHarness(label: string, options: TenantHarnessOptions = {}): Promise<TenantHarness> {
  const cluster = options.kubeconfig ? await connectTestClusterAt(options.kubeconfig, `op-${label}`) : await connectTestCluster(`op-${label}`);
  await installCrd(cluster);
  const authEnv = await createEnvironment(`op_${label}`);
  const auth = await startAuth(authEnv);
  const runId = `${label}-${randomBytes(3).toString('hex')}`;
  const vhost = decodeURIComponent(new URL(authEnv.vhost.url).pathname.slice(1));
  const externalConfig = localExternalConfig([authEnv.database.name], vhost);
  const settings: TenantSettings = {
    ...DEFAULT_TENANT_SETTINGS,
    tenantSelector: `${TEST_RUN_LABEL}=${runId}`,
    platformNamespace: cluster.namespace,
    resyncPeriodMs: 60_000,
    deletionTimeoutMs: 60_000,
  };
  const tenants = new ResourceClient<RallyForgeTenant>(cluster.client, TENANTS);
  const running: RunningTestOperator[] = [];
  const created = new Set<string>();
  const statusOf = (tenant: RallyForgeTenant, type: string): TenantCondition | undefined => tenant.status?.conditions?.find((c) => c.type === type);
  const current = (tenant: RallyForgeTenant) => tenant.status?.observedGeneration === tenant.metadata.generation;

  const harness: TenantHarness = {
    cluster,
    runId,
    auth,
    authEnv,
    externalConfig,
    settings,
    tenants,
    // Starts with a letter (the CRD's id pattern); random first so that a truncated label stays unique.
    tenantId: (l) => `t${randomBytes(3).toString('hex')}-${l}`.slice(0, 30).replace(/-+$/, ''),
    manifest: (name, spec, extra = {}) => ({
      apiVersion: 'rallyforge.io/v1alpha1',
      kind: 'RallyForgeTenant',
      metadata: { name, labels: { [TEST_RUN_LABEL]: runId } },
      spec: { displayName: `Test org ${name}`, tier: 'shared', admins: [`admin@${name}.example.org`], deletionPolicy: extra.deletionPolicy ?? 'Delete', ...spec } as RallyForgeTenantSpec,
    }),
    async create(tenant) {
      created.add(tenant.metadata.name!);
      return tenants.create(tenant);
    },
    waitForCondition: (name, type, status, timeoutMs = CONVERGE_TIMEOUT_MS, reason) =>
      harness.waitForTenant(
        name,
        `condition ${type}=${status}${reason ? ` (${reason})` : ''}`,
        (tenant) => {
          const condition = statusOf(tenant, type);
          return condition?.status === status && (!reason || condition.reason === reason);
        },
        timeoutMs,
      ),
    async waitForTenant(name, what, probe, timeoutMs = CONVERGE_TIMEOUT_MS) {
      let last: RallyForgeTenant | undefined;
      try {
        return await eventually(
          async () => {
            last = await tenants.get(name);
            return current(last) && probe(last) ? last : undefined;
          },
          timeoutMs,
          `tenant ${name}: ${what}`,
        );
      } catch (error) {
        // The status says why it did not get there: put it in the failure.
        const conditions = (last?.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`).join('\n  ');
        throw new Error(`${(error as Error).message}\n  phase ${last?.status?.phase}, generation ${last?.metadata.generation}, observed ${last?.status?.observedGeneration}\n  ${conditions}`);
      }
    },
    waitForGone: (name, timeoutMs = CONVERGE_TIMEOUT_MS) =>
      eventually(async () => (await tenants.find(name)) === undefined, timeoutMs, `tenant ${name} to be gone`).then(() => undefined),
    async events(name) {
      const list = await new ResourceClient<KubeObject & { type: string; reason: string; message: string; count?: number; reportingInstance?: string }>(
        cluster.client,
        EVENTS,
      ).list({ namespace: CLUSTER_SCOPED_EVENT_NAMESPACE, fieldSelector: `involvedObject.kind=${TENANTS.kind},involvedObject.name=${name}` });
      return list.items.map((e) => ({ type: e.type, reason: e.reason, message: e.message, count: e.count ?? 1, host: e.reportingInstance }));
    },
    async startOperator(options = {}) {
      const config = options.configure ? options.configure(structuredClone(externalConfig)) : externalConfig;
      const logger = operatorLogger(runId, options.identityName);
      const external = options.external ?? createExternalLayers(config, { logger, sharedCheckTtlMs: options.sharedCheckTtlMs });
      const identity = options.identity ?? new BusIdentityRegistrar({ amqpUrl: authEnv.vhost.url });
      const operatorSettings = { ...settings, ...options.settings };
      const operator = await createTenantOperator({
        client: options.client ?? cluster.client,
        settings: operatorSettings,
        external,
        identity,
        workloads: options.workloads ?? cdk8sWorkloadRenderer(operatorSettings, TEST_IMAGE),
        leaderElection: options.leaderElection
          ? { namespace: cluster.namespace, name: options.leaseName ?? `tenant-operator-${runId}`, identity: options.identityName, ...TEST_LEASE }
          : false,
        healthProbe: false,
        maxConcurrentReconciles: 4,
        gracefulShutdownTimeoutMs: 10_000,
        logger,
      });
      const abort = new AbortController();
      let stopped = false;
      const done = operator.run(abort.signal).catch((error: unknown) => error).finally(() => (stopped = true));
      const handle: RunningTestOperator = {
        operator,
        done,
        get stopped() {
          return stopped;
        },
        async stop({ hard } = {}) {
          stopped = true;
          if (hard) armForKill(operator);
          abort.abort(new Error(hard ? 'killed' : 'stopped'));
          await done;
        },
      };
      running.push(handle);
      return handle;
    },
    async purge(name) {
      const layers = createExternalLayers(externalConfig);
      const identity = new BusIdentityRegistrar({ amqpUrl: authEnv.vhost.url });
      try {
        // Dedicated: what a dedicated tenant has; remove() of a missing database, vhost or user is a no-op.
        for (const layer of layers) await layer.remove({ tenantId: name, tier: 'dedicated', suspended: true }).catch(() => undefined);
        await identity.deprovision(name, 'delete').catch(() => undefined);
        await new ResourceClient<KubeObject>(cluster.client, NAMESPACES).delete(tenantNamespace(name, settings)).catch(() => undefined);
      } finally {
        await Promise.allSettled([...layers.map((layer) => layer.close()), identity.close()]);
      }
    },
    async close() {
      // Tenants left by failed specs: let an operator finalize them (Delete policy by default), then stop it.
      const leftovers: string[] = [];
      for (const name of created) if (await tenants.find(name).catch(() => undefined)) leftovers.push(name);
      if (leftovers.length) {
        const cleaner = running.find((r) => !r.stopped) ?? (await harness.startOperator());
        for (const name of leftovers) await tenants.delete(name).catch(() => undefined);
        await Promise.all(leftovers.map((name) => harness.waitForGone(name, 60_000).catch(() => undefined)));
        // One that could not be finalized in time (an external system down): let it go, the purge below cleans up.
        for (const name of leftovers) {
          await tenants.patch(name, undefined, { metadata: { finalizers: null } } as unknown as RallyForgeTenant, { type: 'merge' }).catch(() => undefined);
        }
        await cleaner.stop().catch(() => undefined);
      }
      await Promise.all(running.map((r) => r.stop().catch(() => undefined)));
      for (const name of created) await harness.purge(name).catch(() => undefined);
      await auth.close().catch(() => undefined);
      await authEnv.drop().catch(() => undefined);
      await cluster.close();
    },
  };
  return harness;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through jest, whose global setup (tools/test/global-setup.ts) starts the servers.`);
  return value;
}
