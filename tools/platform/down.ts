import { join } from 'node:path';
import { STATE_DIR, stopInfra } from '../infra';
import { sleep } from '../infra/process';
import { stopGateway } from './gateway';
import { stopPrometheus } from './prometheus';
import { killPidFiles, pidAlive } from './stack';

/** Stops a detached `npm run up --detach`: services first (they drain), then gateway, Prometheus and the servers. */
async function main(): Promise<void> {
  const pids = killPidFiles(STATE_DIR, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (pids.some(pidAlive) && Date.now() < deadline) await sleep(200);
  for (const pid of pids.filter(pidAlive)) process.kill(pid, 'SIGKILL');
  stopGateway(join(STATE_DIR, 'gateway'));
  stopPrometheus(join(STATE_DIR, 'prometheus'));
  stopInfra();
  process.stdout.write(`[down] stopped ${pids.length} services, the gateway, Prometheus and the servers; data kept in .rallyforge/\n`);
}

void main();
