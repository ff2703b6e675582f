import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, STATE_DIR, stopInfra } from '../infra';
import { sleep } from '../infra/process';
import { stopGateway } from './gateway';
import { stopOperator } from './operator';
import { stopPrometheus } from './prometheus';
import { killPidFiles, pidAlive } from './stack';

/** Stops a detached `npm run up --detach`: services first (they drain), then gateway, Prometheus and the servers. */
async function main(): Promise<void> {
  stopOperator();
  const pids = killPidFiles(STATE_DIR, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (pids.some(pidAlive) && Date.now() < deadline) await sleep(200);
  for (const pid of pids.filter(pidAlive)) process.kill(pid, 'SIGKILL');
  stopGateway(join(STATE_DIR, 'gateway'));
  stopPrometheus(join(STATE_DIR, 'prometheus'));
  spawnSync('bash', [join(REPO_ROOT, 'tools', 'k8s', 'cluster.sh'), 'down'], { cwd: REPO_ROOT, stdio: 'ignore' });
  stopInfra();
  process.stdout.write(`[down] stopped ${pids.length} services, the gateway, Prometheus, the control plane and the servers; data kept in .rallyforge/\n`);
}

void main();
