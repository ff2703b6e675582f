import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { ensureCluster } from '@rallyforge/tools/test/k8s';
import { KubeClient } from '../../src/controller-core/kube-client';
import { connectionFromKubeConfig, loadKubeConfig } from '../../src/controller-core/kube-config';
import { NAMESPACES, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';

/** Integration specs start the local control plane (tools/k8s/cluster.sh) on first use; warm, it takes seconds. */
export const CLUSTER_TIMEOUT_MS = 30 * 60 * 1000;

export interface TestCluster {
  client: KubeClient;
  kubeconfig: string;
  /** A fresh namespace per spec file, so runs never see each other's objects. */
  namespace: string;
  close(): Promise<void>;
}

/** Connects to the local cluster through the same kubeconfig path production uses, in a fresh namespace. */
export async function connectTestCluster(prefix: string): Promise<TestCluster> {
  const { kubeconfig } = await ensureCluster({ log: () => {} });
  return connectTestClusterAt(kubeconfig, prefix);
}

/** Connects to the cluster of `kubeconfig`, in a fresh namespace. */
export async function connectTestClusterAt(kubeconfig: string, prefix: string): Promise<TestCluster> {
  const client = KubeClient.create({
    connection: await connectionFromKubeConfig(loadKubeConfig(kubeconfig)),
    // Tests create objects in bursts; the production defaults (20 qps, burst 30) would only slow them down.
    qps: 200,
    burst: 400,
  });
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  const namespaces = new ResourceClient<KubeObject>(client, NAMESPACES);
  await namespaces.create({ metadata: { name: namespace, labels: { 'rallyforge.io/test': 'operator' } } });
  return {
    client,
    kubeconfig,
    namespace,
    async close() {
      await namespaces.delete(namespace).catch(() => undefined);
      client.close();
    },
  };
}

/**
 * Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. A probe that
 * throws counts as not yet (a server still starting refuses connections); the last error is reported.
 */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const CLUSTER_SCRIPT = path.join(REPO_ROOT, 'tools', 'k8s', 'cluster.sh');
/** A private control plane starts in about 10 s when the tools are built (the shared one built them). */
const PRIVATE_CLUSTER_TIMEOUT_MS = 5 * 60_000;

export interface PrivateCluster {
  kubeconfig: string;
  /** Stops every component and deletes its state (`cluster.sh down --purge`). */
  destroy(): Promise<void>;
}

/**
 * A control plane of its own (tools/k8s/cluster.sh with its own state directory and ports), for a spec that does
 * what nobody else on the shared one may see: deleting a CRD deletes every object of that kind in the cluster.
 */
export async function startPrivateCluster(name: string): Promise<PrivateCluster> {
  const ports = await freePorts(6);
  const env = {
    ...process.env,
    RALLYFORGE_K8S_DIR: path.join(REPO_ROOT, '.rallyforge', `k8s-${name}-${randomBytes(3).toString('hex')}`),
    RALLYFORGE_K8S_ETCD_PORT: String(ports[0]),
    RALLYFORGE_K8S_ETCD_PEER_PORT: String(ports[1]),
    RALLYFORGE_K8S_APISERVER_PORT: String(ports[2]),
    RALLYFORGE_K8S_CONTROLLER_MANAGER_PORT: String(ports[3]),
    RALLYFORGE_K8S_SCHEDULER_PORT: String(ports[4]),
    RALLYFORGE_K8S_KWOK_PORT: String(ports[5]),
  };
  const cluster = (command: string[]) =>
    new Promise<void>((resolve, reject) => {
      // jest sandboxes process.env: the cluster's settings go to the script explicitly.
      execFile('bash', [CLUSTER_SCRIPT, ...command], { cwd: REPO_ROOT, env, timeout: PRIVATE_CLUSTER_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`bash tools/k8s/cluster.sh ${command.join(' ')} (${env.RALLYFORGE_K8S_DIR}) failed: ${error.message}\n${stderr.split('\n').slice(-20).join('\n')}`)) : resolve(),
      );
    });
  try {
    await cluster(['up']);
  } catch (error) {
    await cluster(['down', '--purge']).catch(() => undefined);
    throw error;
  }
  return {
    kubeconfig: path.join(env.RALLYFORGE_K8S_DIR, 'kubeconfig'),
    async destroy() {
      await cluster(['down', '--purge']);
      // The purge leaves cluster.sh's lock file behind.
      await rm(env.RALLYFORGE_K8S_DIR, { recursive: true, force: true });
    },
  };
}

/** Ports nothing listens on right now (each bound, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
