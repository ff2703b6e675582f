/**
 * The charts against helm and a real kube-apiserver (the local control plane, tools/k8s, with kwok
 * nodes): lint, the API server's own schema validation, install/upgrade/uninstall, refused values.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { parse } from 'yaml';
import { ensureCluster } from '@rallyforge/tools/test/k8s';
import { CHART_NAMES, SERVICE_MONITOR_CRD, chartDir, ciValuesFiles } from './support/charts';
import { run, runOk } from './support/cli';
import { MODEL_FILE, writeChart } from '../src/helm/chart-writer';
import { HelmChart } from '../src/helm/helm-chart';
import { stringOf } from '../src/helm/helm-values';

/** Cold, `cluster.sh up` first builds every tool from Go modules (about 20 minutes on 2 cores). */
const CLUSTER_TIMEOUT_MS = 60 * 60_000;
const HELM_TIMEOUT_MS = 5 * 60_000;
const SERVICE_MONITOR_API = 'monitoring.coreos.com/v1/ServiceMonitor';

type Kube = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let namespace: string;

async function kubectlJson(args: string[]): Promise<Kube> {
  return JSON.parse(await runOk('kubectl', [...args, '-o', 'json'])) as Kube;
}

/** Objects of the given kinds labelled with a release, in the test namespace. */
async function releaseObjects(release: string, kinds: string): Promise<Kube[]> {
  return (await kubectlJson(['get', kinds, '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`])).items as Kube[];
}

beforeAll(async () => {
  await ensureCluster({ log: () => undefined });
  namespace = `rf-charts-${randomBytes(3).toString('hex')}`;
  await runOk('kubectl', ['create', 'namespace', namespace]);
  // prometheus-operator's real CRD, so that the API server validates the ServiceMonitors too. It stays
  // installed: other suites may use it, and deleting a CRD deletes every object of its kind.
  await runOk('kubectl', ['apply', '--server-side', '--force-conflicts', '-f', SERVICE_MONITOR_CRD]);
  await runOk('kubectl', ['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', '--timeout=60s']);
}, CLUSTER_TIMEOUT_MS);

afterAll(async () => {
  if (!namespace) return;
  for (const release of ['rf', 'rf2', 'op']) {
    await run('helm', ['uninstall', release, '-n', namespace, '--wait', '--ignore-not-found']);
  }
  await run('kubectl', ['delete', 'namespace', namespace, '--wait=false']);
}, HELM_TIMEOUT_MS);

const cases = CHART_NAMES.flatMap((chart) => ciValuesFiles(chart).map((file) => [chart, path.basename(file), file] as const));

describe('helm lint --strict', () => {
  it.each(cases)('%s with ci/%s', async (chart, _name, values) => {
    const result = await run('helm', ['lint', '--strict', chartDir(chart), '-f', values]);
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('0 chart(s) failed') });
  });
});

describe('helm template, applied with a server-side dry run', () => {
  it.each(cases)('the API server accepts every object of %s with ci/%s', async (chart, _name, values) => {
    const manifests = await runOk('helm', ['template', 'dry', chartDir(chart), '-n', namespace, '-f', values, '--include-crds', '--api-versions', SERVICE_MONITOR_API]);
    const result = await run('kubectl', ['apply', '--dry-run=server', '--validate=strict', '-n', namespace, '-f', '-'], { input: manifests });
    // The CRD may already exist, installed by Helm (which does not record kubectl's last-applied annotation).
    const complaints = result.stderr.split('\n').filter((line) => line.trim() && !line.includes('missing the kubectl.kubernetes.io/last-applied-configuration annotation'));
    expect({ status: result.status, complaints }).toEqual({ status: 0, complaints: [] });
    const applied = result.stdout.split('\n').filter((line) => line.includes('(server dry run)'));
    expect(applied.length).toBe((manifests.match(/^kind: /gm) ?? []).length);
  });
});

describe('values that are refused, with a message that says why', () => {
  it.each([
    ['rallyforge', ['--set', 'services.auth.replicas=-1'], /at '\/services\/auth\/replicas': minimum: got -1, want 0/],
    ['rallyforge', ['--set', 'services.auth.replica=2'], /at '\/services\/auth': additional properties 'replica' not allowed/],
    ['rallyforge', ['--set', 'image.pullPolicy=Sometimes'], /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/],
    ['rallyforge', ['--set', 'ingress.host=Not_A_Host'], /at '\/ingress\/host'/],
    ['rallyforge', ['--set', 'services.documents.storage.type=hostPath'], /at '\/services\/documents\/storage\/type': value must be one of/],
    ['rallyforge', ['--set', 'services.auth.autoscaling.minReplicas=12'], /auth: autoscaling minReplicas is greater than maxReplicas\. Lower minReplicas or raise maxReplicas\./],
    ['rallyforge', ['--set', 'tenancy.mode=dedicated'], /tenancy\.mode is dedicated but tenancy\.tenantId is empty/],
    ['rallyforge', ['--set', 'services.documents.storage.type=persistentVolumeClaim', '--set', 'services.documents.storage.accessMode=ReadWriteOnce'], /only lets pods on one node mount the documents volume/],
    ['rallyforge-operator', ['--set', 'replicas=-3'], /at '\/replicas': minimum: got -3, want 0/],
    ['rallyforge-operator', ['--set', 'leaderElection.enabled=false'], /More than one operator replica needs leaderElection\.enabled=true/],
    ['rallyforge-operator', ['--set', 'tenancy.unknown=1'], /at '\/tenancy': additional properties 'unknown' not allowed/],
  ])('%s %j', async (chart, args, message) => {
    const result = await run('helm', ['template', 'bad', chartDir(chart), ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});

describe('templating through the real helm', () => {
  it('writes literal {{ verbatim, templates the values, and quotes numbers only where strings are expected', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rallyforge-escape-'));
    try {
      const app = new App({ outdir: path.join(dir, 'templates') });
      const chart = new HelmChart(app, 'escape', { chartName: 'escape', description: 'Escaping.', appVersion: '1.0.0' });
      const greeting = chart.values.string('greeting', 'hello', { description: 'Greeting.' });
      const port = chart.values.integer('port', 8080, { description: 'Port.' });
      const alert = 'Instance {{ $labels.instance }} is down\n{{- range .Alerts }}{{ .Labels.alertname }}{{ end }}\n';
      new kplus.ConfigMap(chart, 'alerts', {
        metadata: { name: `${chart.fullname}-alerts` },
        data: { 'alert.tmpl': alert, message: `${greeting}, {{ world }}`, port: stringOf(port) },
      });
      app.synth();
      fs.writeFileSync(path.join(dir, 'templates', MODEL_FILE), JSON.stringify(chart.toModel()));
      fs.writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: escape\nversion: 0.1.0\n');
      writeChart({ chartDir: dir });
      const rendered = parse(await runOk('helm', ['template', 'demo', dir, '--set', 'greeting=hi', '--set', 'port=9090'])) as Kube;
      expect(rendered.metadata.name).toBe('demo-alerts');
      expect(rendered.data).toEqual({ 'alert.tmpl': alert, message: 'hi, {{ world }}', port: '9090' });
      const lint = await run('helm', ['lint', '--strict', dir]);
      expect(lint.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('helm install, upgrade and uninstall on the local cluster', () => {
  const timings: Record<string, number> = {};

  async function helm(step: string, args: string[]): Promise<string> {
    const started = Date.now();
    const output = await runOk('helm', [...args, '-n', namespace], { timeoutMs: HELM_TIMEOUT_MS });
    timings[step] = Date.now() - started;
    return output;
  }

  afterAll(() => {
    process.stderr.write(`[cdk8s charts] ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}\n`);
  });

  it('installs the operator chart: CRD, RBAC and an Available Deployment', async () => {
    await helm('install operator', ['install', 'op', chartDir('rallyforge-operator'), '--wait', '--timeout', '3m']);
    const [deployment] = await releaseObjects('op', 'deployments');
    expect(deployment.status.conditions).toContainEqual(expect.objectContaining({ type: 'Available', status: 'True' }));
    expect(deployment.status.availableReplicas).toBe(2);
    await runOk('kubectl', ['get', 'crd', 'rallyforgetenants.rallyforge.io']);
    expect((await kubectlJson(['get', 'clusterrole', `op-operator`])).rules.length).toBeGreaterThan(5);
    expect(await releaseObjects('op', 'poddisruptionbudgets,networkpolicies,roles,rolebindings,serviceaccounts,services')).toHaveLength(6);
  }, HELM_TIMEOUT_MS);

  it('installs the platform chart: every Deployment Available on the kwok nodes, with HPAs, PDBs and NetworkPolicies', async () => {
    await helm('install platform', ['install', 'rf', chartDir('rallyforge'), '--wait', '--timeout', '4m']);
    const deployments = await releaseObjects('rf', 'deployments');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['rf-auth', 'rf-claims', 'rf-documents', 'rf-payments', 'rf-realtime']);
    for (const deployment of deployments) {
      expect({ name: deployment.metadata.name, conditions: deployment.status.conditions }).toEqual({
        name: deployment.metadata.name,
        conditions: expect.arrayContaining([expect.objectContaining({ type: 'Available', status: 'True' })]),
      });
    }
    const pods = await releaseObjects('rf', 'pods');
    expect(pods.every((p) => String(p.spec.nodeName).startsWith('kwok-'))).toBe(true);
    expect(await releaseObjects('rf', 'horizontalpodautoscalers')).toHaveLength(5);
    expect(await releaseObjects('rf', 'poddisruptionbudgets')).toHaveLength(5);
    expect(await releaseObjects('rf', 'networkpolicies')).toHaveLength(5);
    expect(await releaseObjects('rf', 'ingresses')).toHaveLength(2);
    expect(await releaseObjects('rf', 'servicemonitors')).toHaveLength(5);
    // The migration hook Jobs ran and, having succeeded, were deleted.
    expect(await releaseObjects('rf', 'jobs')).toHaveLength(0);
  }, HELM_TIMEOUT_MS);

  it('lets a second release, in development mode, live side by side without selecting the first one\'s pods', async () => {
    // Development mode brings PostgreSQL, Redis and RabbitMQ and migrates after install. Documents on an
    // emptyDir here: the local cluster has no storage provisioner to bind a PersistentVolumeClaim.
    const development = ciValuesFiles('rallyforge').find((f) => f.endsWith('development-values.yaml'))!;
    await helm('install second platform (development mode)', [
      'install', 'rf2', chartDir('rallyforge'), '-f', development, '--set', 'services.documents.storage.type=emptyDir', '--wait', '--timeout', '4m',
    ]);
    const servers = (await releaseObjects('rf2', 'deployments')).filter((d) => d.metadata.name.startsWith('rf2-dev-'));
    expect(servers.map((d) => [d.metadata.name, d.status.availableReplicas])).toEqual([
      ['rf2-dev-postgresql', 1],
      ['rf2-dev-rabbitmq', 1],
      ['rf2-dev-redis', 1],
    ]);
    expect(await releaseObjects('rf2', 'jobs')).toHaveLength(0);
    for (const release of ['rf', 'rf2']) {
      const service = await kubectlJson(['get', 'service', `${release}-auth`, '-n', namespace]);
      const selector = Object.entries(service.spec.selector as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
      const pods = (await kubectlJson(['get', 'pods', '-n', namespace, '-l', selector])).items as Kube[];
      expect(pods.length).toBeGreaterThan(0);
      expect(new Set(pods.map((p) => p.metadata.labels['app.kubernetes.io/instance']))).toEqual(new Set([release]));
    }
  }, HELM_TIMEOUT_MS);

  it('rolls every Deployment on helm upgrade with changed values', async () => {
    const before = new Map((await releaseObjects('rf', 'deployments')).map((d) => [d.metadata.name, d.spec.template]));
    await helm('upgrade platform', [
      'upgrade', 'rf', chartDir('rallyforge'), '--reuse-values', '--wait', '--timeout', '4m',
      // Switching a service's autoscaling off in the same upgrade races with its HPA (see the chart's NOTES):
      // the HPA can scale the Deployment back before helm deletes it. This upgrade changes the HPA's bounds.
      '--set', 'config.logLevel=debug', '--set', 'services.claims.autoscaling.maxReplicas=5',
    ]);
    // helm --wait accepts a rollout once the replicas it saw are updated; the HPA may have scaled since.
    for (const name of before.keys()) {
      await runOk('kubectl', ['rollout', 'status', `deployment/${name}`, '-n', namespace, '--timeout=120s']);
    }
    const after = await releaseObjects('rf', 'deployments');
    for (const deployment of after) {
      expect(deployment.spec.template).not.toEqual(before.get(deployment.metadata.name));
      // Every desired pod runs the new template (old pods may still be on their way out).
      expect(deployment.status).toMatchObject({ observedGeneration: deployment.metadata.generation, updatedReplicas: deployment.spec.replicas });
      const logLevel = deployment.spec.template.spec.containers[0].env.find((e: Kube) => e.name === 'LOG_LEVEL');
      expect(logLevel.value).toBe('debug');
    }
    const hpa = (await releaseObjects('rf', 'horizontalpodautoscalers')).find((h) => h.metadata.name === 'rf-claims');
    expect(hpa!.spec.maxReplicas).toBe(5);
  }, HELM_TIMEOUT_MS);

  it('leaves nothing behind on helm uninstall (but the CRD, which Helm never deletes)', async () => {
    for (const release of ['rf2', 'rf', 'op']) {
      await helm(`uninstall ${release}`, ['uninstall', release, '--wait', '--timeout', '3m']);
    }
    const kinds = 'deployments,replicasets,pods,services,serviceaccounts,secrets,configmaps,persistentvolumeclaims,jobs,horizontalpodautoscalers,poddisruptionbudgets,networkpolicies,ingresses,servicemonitors,roles,rolebindings,leases';
    const remaining = async () =>
      ((await kubectlJson(['get', kinds, '-n', namespace])).items as Kube[])
        .filter((o) => !(o.kind === 'ConfigMap' && o.metadata.name === 'kube-root-ca.crt') && !(o.kind === 'ServiceAccount' && o.metadata.name === 'default'))
        .map((o) => `${o.kind}/${o.metadata.name}`);
    // helm waits for the objects it created; their ReplicaSets and pods go with the garbage collector.
    const deadline = Date.now() + 60_000;
    let left = await remaining();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      left = await remaining();
    }
    expect(left).toEqual([]);
    const clusterScoped = (await kubectlJson(['get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=op'])).items as Kube[];
    expect(clusterScoped).toEqual([]);
    await runOk('kubectl', ['get', 'crd', 'rallyforgetenants.rallyforge.io']);
  }, HELM_TIMEOUT_MS);
});
