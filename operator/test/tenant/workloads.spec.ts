/**
 * A dedicated tenant's workloads (renderTenantWorkloads from @rallyforge/cdk8s) against the real kube-apiserver of
 * the local control plane: every object passes a server-side dry run, then is applied for real with the operator's
 * server-side apply into a namespace with the tenant's ResourceQuota; kwok runs the pods, so the Deployments become
 * Available and the migration Jobs complete. Suspending and resuming go through the same applies.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { renderTenantWorkloads, type KubernetesManifest, type TenantWorkloads, type TenantWorkloadsOptions } from '@rallyforge/cdk8s';
import { ensureCluster } from '@rallyforge/tools/test/k8s';
import type { KubeObject, ResourceType } from '../../src/controller-core/resource';
import { EVENTS, NAMESPACES, SECRETS } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { Applier } from '../../src/controller-core/server-side-apply';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, eventually, type TestCluster } from '../support/test-cluster';

const KINDS: Record<string, ResourceType> = {
  NetworkPolicy: { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  ServiceAccount: { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  PersistentVolumeClaim: { group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true },
  Service: { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  Job: { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  PodDisruptionBudget: { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true },
  HorizontalPodAutoscaler: { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true },
  Ingress: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  ServiceMonitor: { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', plural: 'servicemonitors', namespaced: true },
};
const RESOURCE_QUOTAS: ResourceType = { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true };
const PODS: ResourceType = { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
const SERVICE_MONITOR_CRD = path.resolve(__dirname, '..', '..', '..', 'cdk8s', 'test', 'fixtures', 'monitoring.coreos.com_servicemonitors.yaml');
const AVAILABLE_TIMEOUT_MS = 180_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = KubeObject & Record<string, any>;

function kindOf(manifest: KubernetesManifest): ResourceType {
  const type = KINDS[manifest.kind];
  if (!type) throw new Error(`No ResourceType for ${manifest.kind} in this test: add it to KINDS.`);
  return type;
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const available = (d: Loose) =>
  d.status?.observedGeneration === d.metadata.generation &&
  (d.status?.conditions ?? []).some((c: Loose) => c.type === 'Available' && c.status === 'True') &&
  (d.status?.readyReplicas ?? 0) >= 1 &&
  (d.status?.updatedReplicas ?? 0) === (d.status?.replicas ?? 0);

type Quota = { pods: number; cpu: string; memory: string };

/** A fresh namespace prepared as the operator's namespace layer leaves it, and the operator's way of applying. */
class TenantNamespace {
  static async create(quota: Quota): Promise<TenantNamespace> {
    const cluster = await connectTestCluster('rf-wl');
    const tenantId = cluster.namespace.replace(/^rf-/, '');
    const options: TenantWorkloadsOptions = { tenantId, namespace: cluster.namespace, credentialsSecretName: `${tenantId}-credentials`, quota, allowedNamespaces: ['partner-portal'] };
    const ns = new TenantNamespace(cluster, options);
    // The restricted Pod Security Standard enforced on the namespace, the tenant's Secret and its ResourceQuota.
    await ns.client(NAMESPACES).patch(
      cluster.namespace,
      undefined,
      { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } } as Loose,
      { type: 'merge' },
    );
    const url = (db: string) => `postgres://${tenantId}_${db}:secret@postgres.rallyforge-system:5432/rf_${tenantId}_${db}`;
    await ns.client(SECRETS).create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: options.credentialsSecretName, namespace: cluster.namespace },
      stringData: {
        ...Object.fromEntries(['auth', 'claims', 'payments', 'documents'].flatMap((s) => [[`${s.toUpperCase()}_DATABASE_URL`, url(s)], [`${s.toUpperCase()}_MIGRATION_DATABASE_URL`, url(`${s}_owner`)]])),
        AMQP_URL: `amqp://${tenantId}:secret@rabbitmq.rallyforge-system:5672/${tenantId}`,
        REDIS_URL: `redis://${tenantId}:secret@redis.rallyforge-system:6379`,
        AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      },
    } as Loose);
    await ns.client(RESOURCE_QUOTAS).create({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'tenant', namespace: cluster.namespace },
      spec: { hard: { pods: String(quota.pods), 'requests.cpu': quota.cpu, 'requests.memory': quota.memory } },
    } as Loose);
    return ns;
  }

  readonly applier: Applier;

  private constructor(
    readonly cluster: TestCluster,
    readonly options: TenantWorkloadsOptions,
  ) {
    this.applier = Applier.create({ client: cluster.client });
  }

  get namespace(): string {
    return this.cluster.namespace;
  }

  client<T extends KubeObject = Loose>(type: ResourceType): ResourceClient<T> {
    return new ResourceClient<T>(this.cluster.client, type);
  }

  /** Applies every object (the operator's applier: force, field manager rallyforge-operator), then prunes by label. */
  async applyAndPrune(rendered: TenantWorkloads): Promise<void> {
    for (const obj of rendered.objects) {
      await this.applier.apply(kindOf(obj), obj as unknown as KubeObject);
    }
    const keep = new Set(rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const type of Object.values(KINDS).filter((k) => k.kind !== 'ServiceMonitor')) {
      const live = await this.client(type).list({ namespace: this.namespace, labelSelector: rendered.selector });
      for (const obj of live.items) {
        if (!keep.has(`${type.kind}/${obj.metadata.name}`)) {
          await this.client(type).delete(obj.metadata.name!, this.namespace, { propagationPolicy: 'Background' });
        }
      }
    }
  }

  deployment(name: string): Promise<Loose> {
    return this.client(KINDS.Deployment).get(name, this.namespace);
  }

  async migrationsComplete(rendered: TenantWorkloads): Promise<void> {
    for (const name of rendered.migrationJobs) {
      await eventually(async () => ((await this.client(KINDS.Job).get(name, this.namespace)).status?.succeeded ?? 0) >= 1, AVAILABLE_TIMEOUT_MS, `Job ${name} to complete`);
    }
  }

  /** Every Deployment Available at `replicas` ready pods of its current template. */
  async allAvailable(rendered: TenantWorkloads, replicas: number): Promise<void> {
    for (const name of rendered.deployments) {
      await eventually(
        async () => {
          const d = await this.deployment(name);
          return available(d) && d.spec.replicas === replicas && d.status?.readyReplicas === replicas && d.status?.replicas === replicas;
        },
        AVAILABLE_TIMEOUT_MS,
        `Deployment ${name} to be Available with ${replicas} replicas`,
      );
    }
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}

describe('a dedicated tenant\'s workloads on a real kube-apiserver', () => {
  let ns: TenantNamespace;
  let env: NodeJS.ProcessEnv;
  let options: TenantWorkloadsOptions;
  const quota = { pods: 40, cpu: '8', memory: '16Gi' };

  beforeAll(async () => {
    ns = await TenantNamespace.create(quota);
    options = ns.options;
    const local = await ensureCluster({ log: () => undefined, exportEnv: false });
    env = { ...process.env, KUBECONFIG: local.kubeconfig, PATH: [...local.binDir, process.env.PATH ?? ''].join(path.delimiter) };
  }, CLUSTER_TIMEOUT_MS);

  afterAll(() => ns?.close());

  it('passes a server-side dry run of every object, in every variant', async () => {
    // prometheus-operator's real CRD, so that ServiceMonitors are validated too (idempotent; it stays installed).
    const crd = await exec('kubectl', ['apply', '--server-side', '--force-conflicts', '-f', SERVICE_MONITOR_CRD], env);
    expect(crd.stderr).toBe('');
    await exec('kubectl', ['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', '--timeout=60s'], env);

    const variants: TenantWorkloadsOptions[] = [
      options,
      { ...options, suspended: true },
      {
        ...options,
        host: `${options.tenantId}.rallyforge.example.org`,
        tlsSecretName: `${options.tenantId}-tls`,
        serviceMonitor: true,
        documentsStorage: { type: 'persistentVolumeClaim', size: '5Gi' },
        imagePullSecrets: ['registry'],
        image: { registry: 'registry.example.org:5000', repositoryPrefix: 'rf', tag: '2.0.0', pullPolicy: 'Always' },
      },
    ];
    for (const variant of variants) {
      const rendered = renderTenantWorkloads(variant);
      // Through the operator's own path: server-side apply with dryRun=All (apply validates fields strictly).
      for (const obj of rendered.objects) {
        const result = await ns.applier.apply(kindOf(obj), obj as unknown as KubeObject, { dryRun: true });
        expect(`${result.kind}/${result.metadata.name}`).toBe(`${obj.kind}/${obj.metadata.name}`);
      }
      // And through kubectl, as a platform engineer would check it.
      const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rendered.objects });
      const kubectl = await exec('kubectl', ['apply', '--server-side', '--dry-run=server', '--validate=strict', '--field-manager=rallyforge-operator', '-f', '-'], env, list);
      expect({ status: kubectl.status, stderr: kubectl.stderr }).toEqual({ status: 0, stderr: '' });
      expect(kubectl.stdout.split('\n').filter((l) => l.includes('(server dry run)'))).toHaveLength(rendered.objects.length);
    }
    // Nothing was persisted.
    expect((await ns.client(KINDS.Deployment).list({ namespace: ns.namespace })).items).toEqual([]);
  });

  it('applies for real: migrations complete, every Deployment becomes Available within the quota', async () => {
    const rendered = renderTenantWorkloads(options);
    await ns.applyAndPrune(rendered);
    await ns.migrationsComplete(rendered);
    // The HPAs bring each service up to its minimum, and the pods fit the tenant's ResourceQuota.
    await ns.allAvailable(rendered, rendered.replicas.minReplicas);
    const used = (await ns.client(RESOURCE_QUOTAS).get('tenant', ns.namespace)).status.used;
    expect(Number(used.pods)).toBeLessThanOrEqual(quota.pods);
    const pods = (await ns.client(PODS).list({ namespace: ns.namespace, labelSelector: `rallyforge.io/tenant=${options.tenantId}` })).items as Loose[];
    expect(pods.filter((p) => p.status?.phase === 'Running')).toHaveLength(5 * rendered.replicas.minReplicas);
  });

  it('re-applying the same objects writes no spec again (no new generation), whatever the network settings', async () => {
    // Objects no controller writes status to must keep their resourceVersion; the others their generation.
    const statusless = ['ServiceAccount', 'Service', 'NetworkPolicy'];
    const versions = (objs: KubeObject[]) =>
      objs.map((o) => `${o.kind}/${o.metadata.name}@${statusless.includes(o.kind!) ? `rv${o.metadata.resourceVersion}` : o.metadata.generation}`);
    const live = (rendered: TenantWorkloads) => Promise.all(rendered.objects.map((o) => ns.client(kindOf(o)).get(o.metadata.name, ns.namespace)));
    // No namespace admitted at all (empty NetworkPolicy rules), then the usual settings again.
    const variants = [{ ...options, ingressControllerNamespace: '', monitoringNamespace: '', platformNamespace: '', allowedNamespaces: [] }, options];
    for (const variant of variants) {
      const rendered = renderTenantWorkloads(variant);
      await ns.applyAndPrune(rendered);
      const before = await live(rendered);
      await ns.applyAndPrune(rendered);
      expect(versions(await live(rendered))).toEqual(versions(before));
    }
  });

  it('suspending scales every Deployment to 0 and removes the autoscalers; resuming hands replicas back to them', async () => {
    const suspended = renderTenantWorkloads({ ...options, suspended: true });
    await ns.applyAndPrune(suspended);
    expect((await ns.client(KINDS.HorizontalPodAutoscaler).list({ namespace: ns.namespace })).items).toEqual([]);
    expect((await ns.client(KINDS.Job).list({ namespace: ns.namespace })).items).toEqual([]);
    for (const name of suspended.deployments) {
      await eventually(async () => {
        const d = await ns.deployment(name);
        return d.spec.replicas === 0 && (d.status?.replicas ?? 0) === 0;
      }, AVAILABLE_TIMEOUT_MS, `Deployment ${name} to scale to 0`);
    }

    const resumed = renderTenantWorkloads(options);
    await ns.applyAndPrune(resumed);
    for (const name of resumed.deployments) {
      const d = await ns.deployment(name);
      // The operator no longer owns spec.replicas: the HorizontalPodAutoscaler does.
      const owned = ((d.metadata.managedFields ?? []) as Loose[]).filter((f) => f.manager === 'rallyforge-operator').map((f) => JSON.stringify(f.fieldsV1));
      expect(owned.join('')).not.toContain('"f:replicas"');
    }
    await ns.migrationsComplete(resumed);
    await ns.allAvailable(resumed, resumed.replicas.minReplicas);
  });
});

describe('a dedicated tenant on the smallest quota that holds it', () => {
  let ns: TenantNamespace;
  // One replica of each service, its rolling-update surge and the four migration Jobs, and not one pod more.
  const quota = { pods: 14, cpu: '1400m', memory: '3840Mi' };

  beforeAll(async () => {
    ns = await TenantNamespace.create(quota);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(() => ns?.close());

  // kwok starts and completes pods at once, so the peak of an upgrade (old pods, surge pods and migration pods at the
  // same time) is brief here: the worst-case arithmetic is the unit test's; this checks that the set runs and upgrades
  // end to end inside the quota the planner chose, with the old Jobs pruned and no pod refused by the quota.
  it('runs, then upgrades to a new image: new migration Jobs and a rolling update inside the ResourceQuota', async () => {
    const first = renderTenantWorkloads({ ...ns.options, image: { tag: '1.0.0' } });
    expect([first.replicas.minReplicas, first.replicas.maxReplicas]).toEqual([1, 1]);
    expect(first.replicas.worstCase).toEqual({ pods: 14, cpuMillis: 1400, memoryBytes: 3840 * 2 ** 20 });
    await ns.applyAndPrune(first);
    await ns.migrationsComplete(first);
    await ns.allAvailable(first, 1);

    const upgraded = renderTenantWorkloads({ ...ns.options, image: { tag: '1.1.0' } });
    expect(upgraded.migrationJobs.filter((name) => first.migrationJobs.includes(name))).toEqual([]);
    await ns.applyAndPrune(upgraded);
    // The old Jobs are pruned; the new ones run and the Deployments roll within the quota (none stuck on it).
    expect((await ns.client(KINDS.Job).list({ namespace: ns.namespace })).items.map((j) => j.metadata.name).sort()).toEqual([...upgraded.migrationJobs].sort());
    await ns.migrationsComplete(upgraded);
    await ns.allAvailable(upgraded, 1);
    for (const name of upgraded.deployments) {
      expect((await ns.deployment(name)).spec.template.spec.containers[0].image).toMatch(/:1\.1\.0$/);
    }
    const events = (await ns.client(EVENTS).list({ namespace: ns.namespace })).items as Loose[];
    expect(events.filter((e) => /exceeded quota/.test(e.message ?? '')).map((e) => e.message)).toEqual([]);
  });
});
