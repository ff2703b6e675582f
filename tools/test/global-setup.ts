import { ensureInfra } from '../infra';

/**
 * Jest global setup: starts the real PostgreSQL, Redis and RabbitMQ with the same bootstrap as `npm run up`
 * (idempotent: quick when they already run) and hands their admin URLs to the test workers through env vars.
 * Each test file then creates its own database / vhost (tools/test/infra.ts), so runs never collide.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.RF_TEST_INFRA === 'off') return;
  const started = Date.now();
  const endpoints = await ensureInfra((msg) => process.stderr.write(`[infra] ${msg}\n`));
  process.env.RF_TEST_PG_URL = endpoints.postgresAdminUrl;
  process.env.RF_TEST_REDIS_URL = endpoints.redisUrl;
  process.env.RF_TEST_AMQP_URL = endpoints.amqpUrl;
  process.env.RF_TEST_RABBIT_MGMT_URL = endpoints.rabbitManagementUrl;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (Number(seconds) > 2) process.stderr.write(`[infra] ready (${endpoints.mode}) in ${seconds} s\n`);
}
