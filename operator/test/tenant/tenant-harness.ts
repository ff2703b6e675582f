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
import { loadSecrets, managementUrl, postgresAdminUrl, redisAdminUrl, PORTS } from '@rallyforge/tools/infra';
import { createEnvironment, startAuth, type AuthEnvironment, type RunningAuth } from '@rallyforge/auth/test/auth-harness';
import { Applier, ResourceClient, type KubeObject } from '../../src/controller-core';
import { createExternalLayers, type ExternalSystemsConfig } from '../../src/tenant/external';
import { BusIdentityRegistrar } from '../../src/tenant/identity';
import type { ExternalLayer, IdentityRegistrar } from '../../src/tenant/layers';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../src/tenant/operator-settings';
import { CUSTOM_RESOURCE_DEFINITIONS, TENANTS, type RallyForgeTenant, type RallyForgeTenantSpec } from '../../src/tenant/tenant-api';
import { createTenantOperator, type TenantOperator } from '../../src/tenant/tenant-operator';
import { connectTestCluster, eventually, type TestCluster } from '../support/test-cluster';

export const TEST_RUN_LABEL = 'rallyforge.io/test-run';

export interface RunningTestOperator {
  operator: TenantOperator;
  /** Stops it gracefully (or abruptly with `hard`, as a killed process would: no lease release, no drain). */
  stop(options?: { hard?: boolean }): Promise<void>;
  done: Promise<unknown>;
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
  waitForGone(name: string, timeoutMs?: number): Promise<void>;
  startOperator(options?: {
    external?: readonly ExternalLayer[];
    identity?: IdentityRegistrar;
    settings?: Partial<TenantSettings>;
    leaderElection?: boolean;
    identityName?: string;
  }): Promise<RunningTestOperator>;
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

export function localExternalConfig(platformDatabases: string[], platformVhost: string): ExternalSystemsConfig {
  const secrets = loadSecrets();
  return {
    postgres: { adminUrl: postgresAdminUrl(), tenantUrl: `postgres://127.0.0.1:${PORTS.postgres}`, platformDatabases },
    rabbitmq: {
      managementUrl: managementUrl(),
      adminUser: 'rallyforge',
      adminPassword: secrets.rabbitPassword,
      amqpUrl: `amqp://127.0.0.1:${PORTS.amqp}`,
      tenantUrl: `amqp://127.0.0.1:${PORTS.amqp}`,
      platformVhost,
    },
    redis: { adminUrl: redisAdminUrl(), tenantUrl: `redis://127.0.0.1:${PORTS.redis}` },
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 15_000,
  };
}

export async function createTenantHarness(label: string): Promise<TenantHarness> {
  const cluster = await connectTestCluster(`op-${label}`);
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

  const harness: TenantHarness = {
    cluster,
    runId,
    auth,
    authEnv,
    externalConfig,
    settings,
    tenants,
    tenantId: (l) => `t${randomBytes(3).toString('hex')}-${l}`.slice(0, 30),
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
    waitForCondition: (name, type, status, timeoutMs = 60_000, reason) =>
      eventually(
        async () => {
          const tenant = await tenants.get(name);
          const condition = tenant.status?.conditions?.find((c) => c.type === type);
          return condition?.status === status && (!reason || condition.reason === reason) && tenant.status?.observedGeneration === tenant.metadata.generation ? tenant : undefined;
        },
        timeoutMs,
        `tenant ${name} condition ${type}=${status}${reason ? ` (${reason})` : ''}`,
      ),
    waitForGone: (name, timeoutMs = 60_000) => eventually(async () => (await tenants.find(name)) === undefined, timeoutMs, `tenant ${name} to be gone`).then(() => undefined),
    async startOperator(options = {}) {
      const external = options.external ?? createExternalLayers(externalConfig);
      const identity = options.identity ?? new BusIdentityRegistrar({ amqpUrl: authEnv.vhost.url });
      const operator = await createTenantOperator({
        client: cluster.client,
        settings: { ...settings, ...options.settings },
        external,
        identity,
        leaderElection: options.leaderElection
          ? { namespace: cluster.namespace, name: `tenant-operator-${runId}`, identity: options.identityName, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 }
          : false,
        healthProbe: false,
        maxConcurrentReconciles: 4,
        gracefulShutdownTimeoutMs: 10_000,
      });
      const abort = new AbortController();
      const done = operator.run(abort.signal).catch((error: unknown) => error);
      const handle: RunningTestOperator = {
        operator,
        done,
        async stop({ hard } = {}) {
          if (hard) {
            // As a SIGKILL would: workers stop at once, the lease is left to expire.
            abort.abort(new Error('killed'));
            (operator.manager as unknown as { elector?: { stop?: () => void } }).elector?.stop?.();
          } else {
            abort.abort();
          }
          await done;
        },
      };
      running.push(handle);
      return handle;
    },
    async close() {
      // Tenants left by failed specs: let a fresh operator finalize them, then stop it.
      const leftovers = [...created];
      if (leftovers.length) {
        const cleaner = running.find(() => false) ?? (await harness.startOperator());
        for (const name of leftovers) await tenants.delete(name).catch(() => undefined);
        await Promise.all(leftovers.map((name) => harness.waitForGone(name, 60_000).catch(() => undefined)));
        await cleaner.stop().catch(() => undefined);
      }
      await Promise.all(running.map((r) => r.stop().catch(() => undefined)));
      await auth.close().catch(() => undefined);
      await authEnv.drop().catch(() => undefined);
      await cluster.close();
    },
  };
  return harness;
}
