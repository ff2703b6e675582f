import { randomBytes } from 'node:crypto';
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
