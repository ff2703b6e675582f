import { randomBytes } from 'node:crypto';

/**
 * Where a Docker engine is reachable (GitHub Actions), the suites run against throwaway containers started by
 * testcontainers instead of the Debian-packaged servers. Same env vars, same helpers; only the servers differ.
 */
export async function startContainers(): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  // Loaded lazily: machines without Docker never need the module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { GenericContainer, Wait } = require('testcontainers') as typeof import('testcontainers');
  const password = randomBytes(12).toString('hex');
  const [pg, redis, rabbit] = await Promise.all([
    new GenericContainer('postgres:15')
      .withEnvironment({ POSTGRES_USER: 'rallyforge', POSTGRES_PASSWORD: password })
      .withCommand(['postgres', '-c', 'max_connections=300', '-c', 'synchronous_commit=off'])
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer('redis:7').withCommand(['redis-server', '--requirepass', password]).withExposedPorts(6379).start(),
    new GenericContainer('rabbitmq:3.13-management')
      .withEnvironment({ RABBITMQ_DEFAULT_USER: 'rallyforge', RABBITMQ_DEFAULT_PASS: password })
      .withExposedPorts(5672, 15672)
      .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
      .start(),
  ]);
  const host = (c: { getHost(): string }) => (c.getHost() === 'localhost' ? '127.0.0.1' : c.getHost());
  const env = {
    RF_TEST_PG_URL: `postgres://rallyforge:${password}@${host(pg)}:${pg.getMappedPort(5432)}/postgres`,
    RF_TEST_REDIS_URL: `redis://default:${password}@${host(redis)}:${redis.getMappedPort(6379)}/0`,
    RF_TEST_AMQP_URL: `amqp://rallyforge:${password}@${host(rabbit)}:${rabbit.getMappedPort(5672)}/%2F`,
    RF_TEST_RABBIT_MGMT_URL: `http://rallyforge:${password}@${host(rabbit)}:${rabbit.getMappedPort(15672)}`,
    RF_TEST_RABBIT_CONTAINER: rabbit.getId(),
  };
  return {
    env,
    stop: async () => {
      await Promise.all([pg.stop(), redis.stop(), rabbit.stop()]);
    },
  };
}
