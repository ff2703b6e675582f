import { PORTS } from './config';
import { dockerEngineReachable, ensureDebianPackages } from './packages';
import { ensurePostgres, postgresAdminUrl, stopPostgres } from './postgres';
import { amqpUrl, ensureRabbitMq, managementUrl, RABBIT_ADMIN, stopRabbitMq } from './rabbitmq';
import { ensureRedis, redisAdminUrl, stopRedis } from './redis';
import { composeDown, composeUp } from './compose';
import { loadSecrets } from './config';

export * from './config';
export { ensureDatabase, ensureServiceDatabase, dropDatabase, postgresAdminUrl } from './postgres';
export type { DatabaseLogin, ServiceDatabase } from './postgres';
export { ensureVhost, deleteVhost, restartRabbitMq, management, amqpUrl, rabbitctl } from './rabbitmq';
export { redisAdminUrl } from './redis';

export interface InfraEndpoints {
  mode: 'native' | 'docker';
  postgresAdminUrl: string;
  redisUrl: string;
  amqpUrl: string;
  rabbitManagementUrl: string;
}

export type Log = (msg: string) => void;

/**
 * Makes PostgreSQL, Redis and RabbitMQ available: through Docker Compose when a Docker engine answers, otherwise
 * from Debian's packages, each server running from .rallyforge/. Idempotent and quick when they already run.
 * This is the one bootstrap shared by `npm run up` and the test suites.
 */
export async function ensureInfra(log: Log = () => undefined): Promise<InfraEndpoints> {
  loadSecrets();
  let mode: InfraEndpoints['mode'] = 'native';
  if (dockerEngineReachable()) {
    mode = 'docker';
    await composeUp(log);
  } else {
    ensureDebianPackages(log);
    // Started one after another: on 2 cores RabbitMQ's boot is the long pole and parallel starts only slow it down.
    await ensurePostgres(log);
    await ensureRedis(log);
    await ensureRabbitMq(log);
  }
  const { rabbitPassword } = loadSecrets();
  return {
    mode,
    postgresAdminUrl: postgresAdminUrl(),
    redisUrl: redisAdminUrl(),
    amqpUrl: amqpUrl('/'),
    rabbitManagementUrl: `http://${RABBIT_ADMIN}:${encodeURIComponent(rabbitPassword)}@127.0.0.1:${PORTS.rabbitManagement}`,
  };
}

export function stopInfra(): void {
  if (dockerEngineReachable()) {
    composeDown();
    return;
  }
  stopRabbitMq();
  stopRedis();
  stopPostgres();
}

export { managementUrl };
