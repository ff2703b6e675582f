import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, loadSecrets, PORTS, REPO_ROOT, STATE_DIR } from './config';
import { mustRun, run, waitFor, isPortOpen } from './process';

const composeFile = () => join(REPO_ROOT, 'tools', 'infra', 'docker-compose.yml');

/** Docker Compose reads the generated credentials from an env file in .rallyforge/ (never committed). */
function writeEnvFile(): string {
  const s = loadSecrets();
  ensureDir(STATE_DIR);
  const file = join(STATE_DIR, 'compose.env');
  const lines = [
    `RF_PG_PORT=${PORTS.postgres}`,
    `RF_REDIS_PORT=${PORTS.redis}`,
    `RF_AMQP_PORT=${PORTS.amqp}`,
    `RF_RABBIT_MGMT_PORT=${PORTS.rabbitManagement}`,
    `RF_PG_PASSWORD=${s.postgresPassword}`,
    `RF_REDIS_PASSWORD=${s.redisPassword}`,
    `RF_RABBIT_PASSWORD=${s.rabbitPassword}`,
    `RF_STATE_DIR=${STATE_DIR}`,
  ];
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

export async function composeUp(log: (msg: string) => void): Promise<void> {
  log('starting PostgreSQL, Redis and RabbitMQ with Docker Compose');
  mustRun('docker', ['compose', '--env-file', writeEnvFile(), '-f', composeFile(), '-p', 'rallyforge', 'up', '-d', '--wait']);
  await waitFor('PostgreSQL', () => isPortOpen(PORTS.postgres), 60_000);
  await waitFor('RabbitMQ', () => isPortOpen(PORTS.amqp), 120_000);
}

export function composeDown(): void {
  run('docker', ['compose', '--env-file', writeEnvFile(), '-f', composeFile(), '-p', 'rallyforge', 'stop']);
}
