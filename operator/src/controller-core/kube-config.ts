import type * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeConnection } from './kube-client';

/**
 * The bridge to @kubernetes/client-node: its KubeConfig reads kubeconfig files, the in-cluster service account
 * (including the rotating projected token) and exec/OIDC credential plugins. Everything else in the controller
 * core speaks HTTP itself (docs/adr/0003-operator-runtime.md), so this is the only module that loads the
 * library at runtime.
 */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (kubeconfigPath) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromDefault(); // KUBECONFIG, ~/.kube/config, then the in-cluster service account
  if (!kubeConfig.getCurrentCluster()) {
    throw new Error(
      'No Kubernetes cluster is configured: set KUBECONFIG (locally: eval "$(bash tools/k8s/cluster.sh env)") ' +
        'or run inside a pod with a service account.',
    );
  }
  return kubeConfig;
}

/** TLS material once, credentials per request when they can change (exec plugins, token files, OIDC). */
export async function connectionFromKubeConfig(kubeConfig: KubeConfig = loadKubeConfig()): Promise<KubeConnection> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('The kubeconfig has no current cluster: set its current-context.');
  const user = kubeConfig.getCurrentUser();

  const resolve = async (): Promise<{ options: https.RequestOptions; headers: Record<string, string> }> => {
    const options: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    return { options, headers };
  };

  const initial = await resolve();
  const dynamic = Boolean(user?.exec || user?.authProvider);
  return {
    server: cluster.server,
    tls: {
      ca: initial.options.ca as Buffer | undefined,
      cert: initial.options.cert as Buffer | undefined,
      key: initial.options.key as Buffer | undefined,
      rejectUnauthorized: initial.options.rejectUnauthorized,
      servername: initial.options.servername ?? undefined,
    },
    authenticate: dynamic ? async () => (await resolve()).headers : async () => initial.headers,
  };
}
