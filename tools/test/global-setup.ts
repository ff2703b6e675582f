import { ensureInfra } from '../infra';
import { dockerEngineReachable } from '../infra/packages';
import { startContainers } from './containers';

/**
 * Jest global setup: real PostgreSQL, Redis and RabbitMQ for every suite. With a Docker engine (CI on GitHub),
 * testcontainers starts throwaway containers; without one (our machines), the same bootstrap as `npm run up`
 * starts the Debian-packaged servers from .rallyforge/ (quick when they already run). Their admin URLs reach the
 * test workers through env vars; each test file then creates its own database / vhost (tools/test/infra.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.RF_TEST_INFRA === 'off' || process.env.RF_TEST_PG_URL) return;
  const started = Date.now();
  if (dockerEngineReachable()) {
    const { env, stop } = await startContainers();
    Object.assign(process.env, env);
    (globalThis as { __rfStopContainers?: () => Promise<void> }).__rfStopContainers = stop;
  } else {
    const endpoints = await ensureInfra((msg) => process.stderr.write(`[infra] ${msg}\n`));
    process.env.RF_TEST_PG_URL = endpoints.postgresAdminUrl;
    process.env.RF_TEST_REDIS_URL = endpoints.redisUrl;
    process.env.RF_TEST_AMQP_URL = endpoints.amqpUrl;
    process.env.RF_TEST_RABBIT_MGMT_URL = endpoints.rabbitManagementUrl;
  }
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 2) process.stderr.write(`[infra] test infrastructure ready in ${seconds.toFixed(1)} s\n`);
}
