import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ensureInfra, PORTS, SERVICE_PORTS, SERVICES, STATE_DIR, stopInfra, REPO_ROOT } from '../infra';
import { ensureDir } from '../infra/config';
import { startGateway, stopGateway } from './gateway';
import { startPrometheus, stopPrometheus } from './prometheus';
import { startPlatformMailCatcher } from './mail-catcher';
import { applyTenant, buildOperator, clusterEnv, DEMO_TENANT_FILE, installTenantApi, operatorEnv, startOperator, stopOperator, type RunningOperator } from './operator';
import { seedDemo } from './seed';
import {
  buildServices, killPidFiles, provisionStack, runMigrations, runtimeEnv, startServices, stopServices, StackOptions,
  waitForReady, writePidFile, ServiceEnv,
} from './stack';

const log = (msg: string) => process.stdout.write(`\x1b[1m[up]\x1b[0m ${msg}\n`);

/**
 * The local Kubernetes control plane (tools/k8s/cluster.sh) starts beside the platform, so kubectl and helm work
 * against it; the first run on a machine builds its tools from Go modules (minutes, cached by version).
 * `--no-cluster` (or RF_UP_CLUSTER=0) skips it.
 */
function startCluster(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'tools', 'k8s', 'cluster.sh'), 'up'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) process.stdout.write(`\x1b[1m[cluster]\x1b[0m ${line.replace(/^\[[a-z-]+\] /, '')}\n`);
      });
    }
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tools/k8s/cluster.sh up failed (exit ${code}); see .rallyforge/k8s/logs/`))));
  });
}

function stopCluster(): void {
  spawnSync('bash', [join(REPO_ROOT, 'tools', 'k8s', 'cluster.sh'), 'down'], { cwd: REPO_ROOT, stdio: 'ignore' });
}

export const UP_STACK: StackOptions = { name: 'rf', ports: SERVICE_PORTS, dir: STATE_DIR };

function startDetached(env: ServiceEnv): void {
  const preload = join(REPO_ROOT, 'services', 'libs', 'service-kit', 'dist', 'telemetry', 'register.js');
  for (const name of SERVICES) {
    const out = openSync(join(ensureDir(join(STATE_DIR, 'logs')), `${name}.log`), 'a');
    const main = join(REPO_ROOT, 'services', name, 'dist', 'main.js');
    const child = spawn(process.execPath, existsSync(preload) ? ['-r', preload, main] : [main], {
      cwd: REPO_ROOT, env: { ...process.env, ...runtimeEnv(env, name) }, detached: true, stdio: ['ignore', out, out],
    });
    child.unref();
    closeSync(out);
    writePidFile(STATE_DIR, name, child.pid ?? -1);
  }
}

async function main(): Promise<void> {
  const detach = process.argv.includes('--detach');
  const withCluster = !process.argv.includes('--no-cluster') && process.env.RF_UP_CLUSTER !== '0';
  const started = Date.now();
  // A previous detached run is replaced, not duplicated.
  killPidFiles(STATE_DIR);

  log('starting PostgreSQL, Redis and RabbitMQ');
  const infra = await ensureInfra(log);
  // Runs while the services build and start; awaited before the summary.
  const cluster = withCluster ? startCluster() : Promise.resolve();
  cluster.catch(() => undefined); // reported when awaited below
  const env = await provisionStack(UP_STACK);
  log('databases, roles and the vhost are in place');
  // Auth's e-mail (verification, password reset, invitations) goes to a local catcher, never out of the machine.
  const mail = await startPlatformMailCatcher({ port: PORTS.smtp, stateDir: STATE_DIR, repoRoot: REPO_ROOT, detach, log });
  env.auth.SMTP_URL = mail.url;
  env.auth.MAIL_LINK_BASE_URL = `http://127.0.0.1:${PORTS.gateway}`;
  buildServices(log);
  runMigrations(env, log);

  const gw = { dir: join(STATE_DIR, 'gateway'), logDir: join(STATE_DIR, 'logs'), port: PORTS.gateway, upstreams: SERVICE_PORTS };
  const prom = { dir: join(STATE_DIR, 'prometheus'), logDir: join(STATE_DIR, 'logs'), port: PORTS.prometheus, targets: SERVICE_PORTS };

  let services: ReturnType<typeof startServices> = [];
  let operator: RunningOperator | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping: services drain in-flight work first');
    await stopServices(services);
    stopGateway(gw.dir);
    stopPrometheus(prom.dir);
    await mail.close();
    if (operator && operator.child.exitCode === null) {
      operator.child.kill('SIGTERM');
      await Promise.race([operator.exited, new Promise((resolve) => setTimeout(resolve, 35_000))]);
    }
    stopOperator();
    if (withCluster) stopCluster();
    stopInfra();
    log('everything stopped; data kept in .rallyforge/');
    process.exit(code);
  };

  if (detach) {
    startDetached(env);
  } else {
    services = startServices(env, UP_STACK, (line) => process.stdout.write(`${line}\n`));
    process.on('SIGINT', () => void stopAll(0));
    process.on('SIGTERM', () => void stopAll(0));
    for (const s of services) {
      void s.exited.then((code) => {
        if (!stopping) {
          log(`${s.name} exited with code ${code}; stopping the platform (log: .rallyforge/logs/${s.name}.log)`);
          void stopAll(1);
        }
      });
    }
  }
  await waitForReady(UP_STACK, services);
  await startGateway(gw);
  await startPrometheus(prom);
  // The demo organisation is a RallyForgeTenant reconciled by the operator on the local control plane (without the
  // cluster, it is registered with auth directly, over the same bus command the operator uses).
  let tenantLine = '  Tenants      none: the operator needs the local control plane (--no-cluster)';
  if (withCluster) {
    await cluster;
    buildOperator(log);
    const kube = clusterEnv();
    installTenantApi(kube);
    operator = startOperator(operatorEnv(kube), { detach, console: detach ? undefined : (line) => process.stdout.write(`${line}\n`) });
    if (operator) {
      const running = operator;
      void running.exited.then((code) => {
        if (!stopping) {
          log(`the operator exited with code ${code}; stopping the platform (log: .rallyforge/logs/operator.log)`);
          void stopAll(1);
        }
      });
    }
    await applyTenant(kube, DEMO_TENANT_FILE, 'demo');
    log('the operator reports the demo tenant Ready');
    tenantLine = '  Tenants      kubectl get rft   (demo: Ready; samples in k8s/samples/)   operator log: .rallyforge/logs/operator.log';
  }
  const demo = await seedDemo(`http://127.0.0.1:${PORTS.gateway}`, env.auth.AMQP_URL, { viaOperator: withCluster });

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = [
    '',
    `RallyForge is up (${infra.mode} infrastructure) in ${seconds} s`,
    '',
    `  Gateway      http://127.0.0.1:${PORTS.gateway}/api/v1/<auth|claims|payments|documents|realtime>/…`,
    `  WebSocket    ws://127.0.0.1:${PORTS.gateway}/ws?token=<access token>`,
    ...SERVICES.map((s) => `  ${s.padEnd(12)} http://127.0.0.1:${SERVICE_PORTS[s]}  (/health/ready, /metrics, /api/v1/${s}/docs-json)`),
    `  Prometheus   http://127.0.0.1:${PORTS.prometheus}`,
    `  RabbitMQ UI  http://127.0.0.1:${PORTS.rabbitManagement}  (user rallyforge, password in .rallyforge/secrets.json)`,
    `  PostgreSQL   127.0.0.1:${PORTS.postgres}   Redis 127.0.0.1:${PORTS.redis}   AMQP 127.0.0.1:${PORTS.amqp}`,
    `  Mail         ${mail.url} catches every e-mail (nothing leaves the machine): ${mail.dir}/*.eml`,
    withCluster
      ? '  Kubernetes   eval "$(npm run --silent cluster:env)"; kubectl get nodes   (local control plane, kwok nodes)'
      : '  Kubernetes   not started (--no-cluster)',
    tenantLine,
    '',
    `  Demo organisation "${demo.organisation}" (open registration)`,
    `  Demo user    ${demo.email} / ${demo.password}`,
    '',
    `  Logs         .rallyforge/logs/<service>.log, gateway-access.log`,
    detach ? '  Running detached: `npm run down` stops everything.' : '  Ctrl-C stops everything (data is kept).',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (detach) process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`\x1b[31m[up] ${err instanceof Error ? err.message : String(err)}\x1b[0m\n`);
  killPidFiles(STATE_DIR);
  process.exit(1);
});
