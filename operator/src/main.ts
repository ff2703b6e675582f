/**
 * The RallyForge operator's entry point: reads its environment, connects to the API server (in-cluster service
 * account, or KUBECONFIG), and runs the tenant controller with leader election until SIGTERM. Exit codes: 0 after
 * a graceful shutdown, 1 on a configuration or start-up error, 2 when the lease was lost (the pod restarts as a
 * standby, as controller-runtime operators do).
 */
import * as http from 'node:http';
import { ControllerMetrics, connectionFromKubeConfig, jsonLogger, KubeClient, LeaderElectionLostError, shutdownSignal } from './controller-core';
import { loadExternalSystemsConfig, createExternalLayers } from './tenant/external';
import { BusIdentityRegistrar } from './tenant/identity';
import { loadOperatorConfig } from './tenant/operator-config';
import { createTenantOperator, processRegistry } from './tenant/tenant-operator';
import { cdk8sWorkloadRenderer } from './tenant/workloads';

async function main(): Promise<number> {
  const config = loadOperatorConfig();
  const external = loadExternalSystemsConfig();
  const logger = jsonLogger({ component: 'rallyforge-operator' }, config.logLevel);
  const registry = processRegistry();
  const client = KubeClient.create({
    connection: await connectionFromKubeConfig(),
    qps: config.kubeApi.qps,
    burst: config.kubeApi.burst,
    metrics: ControllerMetrics.for(registry),
  });
  const operator = await createTenantOperator({
    client,
    settings: config.tenants,
    external: createExternalLayers(external),
    identity: new BusIdentityRegistrar({ amqpUrl: config.amqpUrl }),
    workloads: cdk8sWorkloadRenderer(config.tenants, config.image),
    leaderElection: config.leaderElection,
    healthProbe: { port: config.healthPort },
    maxConcurrentReconciles: config.maxConcurrentReconciles,
    registry,
    logger,
  });
  // /metrics on its own port as well, where the chart's Service and ServiceMonitor scrape it.
  const metrics = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    metrics.once('error', (error) => reject(new Error(`Cannot serve /metrics on port ${config.metricsPort} (METRICS_PORT): ${error.message}`)));
    metrics.listen(config.metricsPort, resolve);
  });
  logger.info('rallyforge-operator starting', {
    leaderElection: config.leaderElection ? `${config.leaderElection.namespace}/${config.leaderElection.name}` : 'off',
    resyncPeriodSeconds: config.tenants.resyncPeriodMs / 1000,
    dedicatedTenants: config.tenants.dedicatedTenants,
    healthPort: config.healthPort,
    metricsPort: config.metricsPort,
  });
  try {
    await operator.run(shutdownSignal());
    logger.info('rallyforge-operator stopped');
    return 0;
  } catch (error) {
    if (error instanceof LeaderElectionLostError) {
      logger.error('leader election lost: exiting so that this replica restarts as a standby');
      return 2;
    }
    throw error;
  } finally {
    metrics.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'rallyforge-operator failed', error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exit(1);
  },
);
