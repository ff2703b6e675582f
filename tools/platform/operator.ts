/**
 * The tenant operator in the local platform: `npm run up` installs the RallyForgeTenant CRD into the local control
 * plane, runs the operator (operator/dist/main.js) against it and the local PostgreSQL, RabbitMQ and Redis, and
 * applies the demo tenant from k8s/samples/, so the demo organisation is created the way every tenant is.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { amqpUrl, loadSecrets, managementUrl, PORTS, postgresAdminUrl, redisAdminUrl, REPO_ROOT, STATE_DIR } from '../infra';
import { ensureDir } from '../infra/config';
import { formatLogLine } from './stack';

export const OPERATOR_NAMESPACE = 'rallyforge-system';
export const CRD_FILE = join(REPO_ROOT, 'charts', 'rallyforge-operator', 'crds', 'rallyforgetenants.rallyforge.io.yaml');
export const DEMO_TENANT_FILE = join(REPO_ROOT, 'k8s', 'samples', 'demo-tenant.yaml');
const OPERATOR_MAIN = join(REPO_ROOT, 'operator', 'dist', 'main.js');
const PID_FILE = join(STATE_DIR, 'run', 'operator.pid');

export interface ClusterEnv {
  KUBECONFIG: string;
  PATH: string;
}

/** KUBECONFIG and PATH (kubectl of the pinned version first) of the local control plane, from `cluster.sh env`. */
export function clusterEnv(): ClusterEnv {
  const script = 'before="$PATH"; eval "$(bash tools/k8s/cluster.sh env)"; printf "%s\\n%s\\n" "$KUBECONFIG" "$PATH"';
  const result = spawnSync('bash', ['-c', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tools/k8s/cluster.sh env failed: ${result.stderr}`);
  const [kubeconfig, path] = result.stdout.trim().split('\n');
  return { KUBECONFIG: kubeconfig!, PATH: path! };
}

export function kubectl(env: ClusterEnv, args: string[], input?: string): string {
  const result = spawnSync('kubectl', args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/** The operator's environment for the local platform: the operator's own admin connections, never a tenant's. */
export function operatorEnv(cluster: ClusterEnv, platformVhost = 'rf'): Record<string, string> {
  const secrets = loadSecrets();
  return {
    ...cluster,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.RF_OPERATOR_LOG_LEVEL ?? 'info',
    POD_NAMESPACE: OPERATOR_NAMESPACE,
    LEADER_ELECTION: 'true',
    HEALTH_PORT: String(PORTS.operatorHealth),
    METRICS_PORT: String(PORTS.operatorMetrics),
    RESYNC_PERIOD_SECONDS: process.env.RF_OPERATOR_RESYNC_SECONDS ?? '120',
    // Tenants that test suites create on the same cluster belong to the suites' own operators.
    TENANT_LABEL_SELECTOR: '!rallyforge.io/test-run',
    AMQP_URL: amqpUrl(platformVhost),
    RF_OPERATOR_POSTGRES_ADMIN_URL: postgresAdminUrl(),
    RF_OPERATOR_RABBITMQ_MANAGEMENT_URL: managementUrl(),
    RF_OPERATOR_RABBITMQ_ADMIN_USER: 'rallyforge',
    RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: secrets.rabbitPassword,
    RF_OPERATOR_RABBITMQ_AMQP_URL: `amqp://127.0.0.1:${PORTS.amqp}`,
    RF_OPERATOR_RABBITMQ_PLATFORM_VHOST: platformVhost,
    RF_OPERATOR_REDIS_ADMIN_URL: redisAdminUrl(),
  };
}

/** Installs (or updates) the CRD and the operator's namespace; waits until the CRD is Established. */
export function installTenantApi(cluster: ClusterEnv): void {
  kubectl(cluster, ['apply', '--server-side', '--field-manager=rallyforge-up', '-f', CRD_FILE]);
  kubectl(cluster, ['wait', '--for=condition=Established', '--timeout=30s', 'crd/rallyforgetenants.rallyforge.io']);
  const namespace = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${OPERATOR_NAMESPACE}\n`;
  kubectl(cluster, ['apply', '--server-side', '--field-manager=rallyforge-up', '-f', '-'], namespace);
}

export interface RunningOperator {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts the operator; its log goes to .rallyforge/logs/operator.log (and the console when given). */
export function startOperator(env: Record<string, string>, options: { detach: boolean; console?: (line: string) => void }): RunningOperator | undefined {
  if (!existsSync(OPERATOR_MAIN)) throw new Error(`${OPERATOR_MAIN} is missing: build the operator first (npx nx run @rallyforge/operator:build).`);
  stopOperator();
  const logDir = ensureDir(join(STATE_DIR, 'logs'));
  if (options.detach) {
    const out = openSync(join(logDir, 'operator.log'), 'a');
    const child = spawn(process.execPath, [OPERATOR_MAIN], { cwd: REPO_ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', out, out] });
    child.unref();
    closeSync(out);
    ensureDir(join(STATE_DIR, 'run'));
    writeFileSync(PID_FILE, String(child.pid ?? -1));
    return undefined;
  }
  const child = spawn(process.execPath, [OPERATOR_MAIN], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(join(logDir, 'operator.log'), { flags: 'a' });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      file.write(`${line}\n`);
      options.console?.(formatLogLine('operator', line, 33));
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    file.end();
    resolve(code);
  }));
  return { child, exited };
}

/** Stops a detached operator (npm run down, or before starting a new one). */
export function stopOperator(): void {
  if (!existsSync(PID_FILE)) return;
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  rmSync(PID_FILE, { force: true });
}

/** Applies a tenant manifest and waits until the operator reports it Ready; on timeout, says why from its status. */
export async function applyTenant(cluster: ClusterEnv, file: string, name: string, timeoutMs = 90_000): Promise<void> {
  kubectl(cluster, ['apply', '--server-side', '--field-manager=rallyforge-up', '-f', file]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = JSON.parse(kubectl(cluster, ['get', 'rft', name, '-o', 'json'])) as { status?: { phase?: string; conditions?: Array<{ type: string; status: string; message: string }> } };
    if (status.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    if (Date.now() > deadline) {
      const failing = (status.status?.conditions ?? []).filter((c) => c.status !== 'True').map((c) => `${c.type}: ${c.message}`);
      throw new Error(`Tenant ${name} is not Ready after ${timeoutMs / 1000} s (phase ${status.status?.phase ?? 'none'}): ${failing.join(' | ') || 'the operator has not reported yet'}. See .rallyforge/logs/operator.log and kubectl describe rft ${name}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Builds the operator and what it imports (the cdk8s constructs, bus and contracts) with Nx; cached. */
export function buildOperator(log: (msg: string) => void): void {
  const started = Date.now();
  const result = spawnSync('npx', ['nx', 'run', '@rallyforge/operator:build', '--output-style=static'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`Building the operator failed:\n${(result.stdout + result.stderr).slice(-4000)}`);
  log(`operator built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
