import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ensureCluster, LocalCluster } from '../../test/k8s';

// The local control plane behaves like a real cluster where our charts and operator depend on it:
// scheduling onto zoned nodes, controllers (deployment, replicaset, garbage collector, namespace,
// serviceaccount, resourcequota), admission and RBAC. Everything is asserted through kubectl.

const VERSIONS_FILE = path.join(__dirname, '..', 'versions.env');
const CLUSTER_UP_TIMEOUT_MS = 60 * 60 * 1000;
const CONTROLLER_TIMEOUT_MS = 120_000;
const ZONE_LABEL = 'topology.kubernetes.io/zone';

interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

let cluster: LocalCluster;
let kubectlPath: string;
const namespaces: string[] = [];

function kubectl(args: string[], input?: string): KubectlResult {
  const result = spawnSync(kubectlPath, args, {
    encoding: 'utf8',
    input,
    env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
    maxBuffer: 32 * 1024 * 1024,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? result.error?.message ?? '' };
}

function mustKubectl(args: string[], input?: string): string {
  const result = kubectl(args, input);
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
  return result.stdout;
}

function kubectlJson<T>(args: string[]): T {
  return JSON.parse(mustKubectl([...args, '-o', 'json'])) as T;
}

async function eventually(what: string, check: () => boolean, timeoutMs = CONTROLLER_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`Timed out after ${timeoutMs / 1000}s waiting for ${what}.`);
}

function pinnedVersion(name: string): string {
  const match = readFileSync(VERSIONS_FILE, 'utf8').match(new RegExp(`^${name}=(\\S+)$`, 'm'));
  if (!match) throw new Error(`${name} is missing from ${VERSIONS_FILE}.`);
  return match[1];
}

function freshNamespace(label: string): string {
  const name = `${label}-${randomBytes(3).toString('hex')}`;
  mustKubectl(['create', 'namespace', name]);
  namespaces.push(name);
  return name;
}

function deploymentManifest(namespace: string, name: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'registry.example/rallyforge/never-pulled:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: name } } },
          ],
        },
      },
    },
  });
}

interface Condition {
  type: string;
  status: string;
}
interface NodeList {
  items: { metadata: { name: string; labels: Record<string, string> }; status: { conditions: Condition[] } }[];
}
interface PodList {
  items: {
    metadata: { name: string };
    spec: { nodeName?: string; volumes?: { name: string; projected?: unknown }[] };
    status: { phase: string; podIP?: string; conditions?: Condition[] };
  }[];
}

const isTrue = (conditions: Condition[] | undefined, type: string) => conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

beforeAll(async () => {
  cluster = await ensureCluster();
  const dir = cluster.binDir.find((candidate) => existsSync(path.join(candidate, 'kubectl')));
  if (!dir) throw new Error(`No kubectl in ${cluster.binDir.join(', ')}; run: bash tools/k8s/build-tools.sh kubernetes`);
  kubectlPath = path.join(dir, 'kubectl');
}, CLUSTER_UP_TIMEOUT_MS);

afterAll(() => {
  if (!cluster) return;
  for (const namespace of namespaces) kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
});

describe('local control plane', () => {
  it('serves the pinned Kubernetes version', () => {
    const version = JSON.parse(mustKubectl(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(pinnedVersion('KUBERNETES_VERSION'));
  });

  it('has three Ready kwok nodes, one per zone', () => {
    const nodes = kubectlJson<NodeList>(['get', 'nodes', '-l', 'type=kwok']);
    expect(nodes.items).toHaveLength(3);
    for (const node of nodes.items) expect(isTrue(node.status.conditions, 'Ready')).toBe(true);
    expect(nodes.items.map((node) => node.metadata.labels[ZONE_LABEL]).sort()).toEqual(['a', 'b', 'c']);
  });

  it('runs a Deployment to Available with Running, Ready pods spread over the zones', () => {
    const namespace = freshNamespace('deploy');
    mustKubectl(['apply', '-f', '-'], deploymentManifest(namespace, 'web', 3));
    mustKubectl(['wait', '-n', namespace, '--for=condition=Available', 'deployment/web', `--timeout=${CONTROLLER_TIMEOUT_MS / 1000}s`]);

    const pods = kubectlJson<PodList>(['get', 'pods', '-n', namespace, '-l', 'app=web']);
    const nodes = kubectlJson<NodeList>(['get', 'nodes', '-l', 'type=kwok']);
    const zoneOf = new Map(nodes.items.map((node) => [node.metadata.name, node.metadata.labels[ZONE_LABEL]]));
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.status.phase).toBe('Running');
      expect(isTrue(pod.status.conditions, 'Ready')).toBe(true);
      expect(pod.status.podIP).toBeTruthy();
      expect(zoneOf.has(pod.spec.nodeName ?? '')).toBe(true);
      // ServiceAccount admission mounted a projected token (TokenRequest, signed with the cluster's key).
      expect(pod.spec.volumes?.some((volume) => volume.name.startsWith('kube-api-access-') && volume.projected)).toBe(true);
    }
    expect(new Set(pods.items.map((pod) => zoneOf.get(pod.spec.nodeName ?? ''))).size).toBe(3);
  });

  it("garbage-collects a deleted Deployment's ReplicaSet and pods", async () => {
    const namespace = freshNamespace('gc');
    mustKubectl(['apply', '-f', '-'], deploymentManifest(namespace, 'worker', 2));
    await eventually('the ReplicaSet of deployment/worker', () => mustKubectl(['get', 'replicasets', '-n', namespace, '-l', 'app=worker', '-o', 'name']).trim() !== '');

    mustKubectl(['delete', 'deployment', 'worker', '-n', namespace, '--cascade=background', '--wait=false']);
    await eventually('the garbage collector to delete the ReplicaSet and pods', () =>
      mustKubectl(['get', 'replicasets,pods', '-n', namespace, '-l', 'app=worker', '-o', 'name']).trim() === '',
    );
  });

  it('finishes deleting a namespace with workloads in it', async () => {
    const namespace = freshNamespace('doomed');
    mustKubectl(['apply', '-f', '-'], deploymentManifest(namespace, 'api', 1));
    mustKubectl(['create', 'configmap', 'settings', '-n', namespace, '--from-literal=mode=test']);
    mustKubectl(['wait', '-n', namespace, '--for=condition=Available', 'deployment/api', `--timeout=${CONTROLLER_TIMEOUT_MS / 1000}s`]);

    mustKubectl(['delete', 'namespace', namespace, '--wait=false']);
    await eventually(`namespace ${namespace} to be gone`, () => kubectl(['get', 'namespace', namespace]).stderr.includes('NotFound'));
  });

  it('tracks usage in a ResourceQuota', async () => {
    const namespace = freshNamespace('quota');
    mustKubectl(['create', 'quota', 'small', '-n', namespace, '--hard=pods=5,configmaps=10']);
    mustKubectl(['create', 'configmap', 'one', '-n', namespace, '--from-literal=a=b']);
    await eventually('the resourcequota controller to count the ConfigMaps', () => {
      const quota = kubectlJson<{ status?: { used?: Record<string, string> } }>(['get', 'resourcequota', 'small', '-n', namespace]);
      // Two: the ConfigMap above and kube-root-ca.crt, published by the root-ca-cert-publisher.
      return quota.status?.used?.configmaps === '2';
    });
  });

  it('denies an unprivileged service account (RBAC) and allows the admin', () => {
    const denied = kubectl(['auth', 'can-i', 'create', 'deployments', '--as=system:serviceaccount:default:default']);
    expect(denied.stdout.trim()).toBe('no');
    expect(denied.status).not.toBe(0);

    const allowed = kubectl(['auth', 'can-i', 'create', 'deployments']);
    expect(allowed.stdout.trim()).toBe('yes');
  });

  it('issues service account tokens', () => {
    const token = mustKubectl(['create', 'token', 'default', '-n', 'default', '--duration=10m']).trim();
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { iss: string; sub: string };
    expect(payload.sub).toBe('system:serviceaccount:default:default');
    expect(payload.iss).toBe('https://kubernetes.default.svc.cluster.local');
  });
});
