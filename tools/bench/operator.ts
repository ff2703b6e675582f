/**
 * npm run bench:operator: the tenant operator at scale on the local control plane (kwok nodes) with the real
 * PostgreSQL, RabbitMQ and Redis, and a real auth answering its registrations.
 *
 *  1. baseline: a bare API client applies the same namespace-layer objects the operator writes for N tenants, at
 *     the operator's client limits (QPS 20, burst 30): the floor any operator on this API server faces;
 *  2. N shared tenants created at once: time until each and all are Ready, API requests the operator issued (from
 *     its rallyforge_operator_api_requests_total), its CPU and peak RSS;
 *  3. D dedicated tenants at once: time until each is Ready (databases, vhost, Redis user, five Deployments);
 *  4. steady state for BENCH_OPERATOR_STEADY_S (120 s) with a resync period of 60 s, so at least one full resync of
 *     every tenant falls inside it: writes issued (goal: zero, Lease renewals counted apart) and CPU;
 *  5. deletion of everything (deletionPolicy Delete), timed.
 *
 * Figures, not assertions: the machine is shared. Last line: `BENCH_OPERATOR {json}`.
 * Settings: BENCH_OPERATOR_TENANTS (200), BENCH_OPERATOR_DEDICATED (5), BENCH_OPERATOR_STEADY_S (120),
 * BENCH_OPERATOR_QPS / _BURST (the operator's client limits, default 20 / 30 as controller-runtime's).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  Applier,
  connectionFromKubeConfig,
  DEFAULT_TENANT_SETTINGS,
  Informer,
  KubeClient,
  loadKubeConfig,
  namespaceObjects,
  NAMESPACES,
  ResourceClient,
  TENANTS,
  type KubeObject,
  type RallyForgeTenant,
  type RallyForgeTenantSpec,
} from '@rallyforge/operator';
import { ensureInfra, REPO_ROOT, STATE_DIR } from '../infra';
import { buildOperator, clusterEnv, installTenantApi, operatorEnv, startOperator, type RunningOperator } from '../platform/operator';
import { startIsolatedStack, type IsolatedStack } from '../platform/stack';

const N = positive('BENCH_OPERATOR_TENANTS', 200);
const DEDICATED = positive('BENCH_OPERATOR_DEDICATED', 5, true);
const STEADY_S = positive('BENCH_OPERATOR_STEADY_S', 120);
const QPS = positive('BENCH_OPERATOR_QPS', 20);
const BURST = positive('BENCH_OPERATOR_BURST', 30);
const RESYNC_S = 60;
const HEALTH_PORT = 18481;
const METRICS_PORT = 18480;
const BENCH_LABEL = 'rallyforge.io/bench-run';
const READY_TIMEOUT_MS = 30 * 60_000;
const CREATE_CONCURRENCY = 50;
const CLOCK_TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in these
const READS = new Set(['GET']);

const log = (m: string) => process.stderr.write(`[bench:operator] ${m}\n`);

interface ProcessSample {
  rssBytes: number;
  peakRssBytes: number;
  cpuSeconds: number;
}

/** RSS, peak RSS (VmHWM) and CPU time (user + system) of a process, from /proc. */
function sampleProcess(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  // Fields after the command name (which may contain spaces, hence the last ')'): utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

type RequestCounts = Map<string, number>; // `${method} ${resource}` → count

async function operatorRequests(): Promise<RequestCounts> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  const counts: RequestCounts = new Map();
  for (const match of text.matchAll(/^rallyforge_operator_api_requests_total\{method="([A-Z]+)",resource="([^"]+)"\} (\d+)/gm)) {
    counts.set(`${match[1]} ${match[2]}`, Number(match[3]));
  }
  return counts;
}

function diff(after: RequestCounts, before: RequestCounts): RequestCounts {
  const out: RequestCounts = new Map();
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) out.set(key, delta);
  }
  return out;
}

const total = (counts: RequestCounts, keep: (method: string, resource: string) => boolean = () => true) =>
  [...counts].filter(([key]) => keep(key.split(' ')[0]!, key.split(' ')[1]!)).reduce((sum, [, n]) => sum + n, 0);
const isWrite = (method: string) => !READS.has(method);
const describe = (counts: RequestCounts) => [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key}=${n}`).join(', ') || 'none';

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function positive(name: string, fallback: number, zeroAllowed = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1)) throw new Error(`${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer, got "${raw}"`);
  return value;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

function tenantManifest(name: string, run: string, tier: 'shared' | 'dedicated'): RallyForgeTenant {
  const spec: RallyForgeTenantSpec = {
    displayName: `Bench organisation ${name}`,
    tier,
    admins: [`admin@${name}.bench.example.org`],
    deletionPolicy: 'Delete',
    registration: 'invite',
    ...(tier === 'dedicated' ? { quota: { cpu: '4', memory: '8Gi', pods: 40 } } : {}),
  } as RallyForgeTenantSpec;
  return { apiVersion: 'rallyforge.io/v1alpha1', kind: 'RallyForgeTenant', metadata: { name, labels: { [BENCH_LABEL]: run } }, spec };
}

/** The floor: the operator's namespace-layer objects for `count` tenants, applied by a bare client at its limits. */
async function baseline(kubeconfig: string, run: string, count: number): Promise<{ seconds: number; requests: number; namespaces: string[] }> {
  const client = KubeClient.create({ connection: await connectionFromKubeConfig(loadKubeConfig(kubeconfig)), qps: QPS, burst: BURST });
  const applier = Applier.create({ client, fieldManager: 'rallyforge-bench-baseline' });
  const settings = { ...DEFAULT_TENANT_SETTINGS, namespacePrefix: 'rfb-' };
  const ids = Array.from({ length: count }, (_, i) => `b${run}-${i}`);
  let requests = 0;
  const started = Date.now();
  await pool(ids, CREATE_CONCURRENCY, async (id) => {
    const tenant = tenantManifest(id, run, 'shared');
    for (const { resource, object } of namespaceObjects(tenant, settings, { TENANT_ID: id })) {
      // Not the operator's labels: the bench's operator must not see (or reconcile) these.
      const labels = { [BENCH_LABEL]: `${run}-baseline` };
      await applier.apply(resource, { ...object, metadata: { ...object.metadata, labels } } as KubeObject);
      requests++;
    }
  });
  const seconds = (Date.now() - started) / 1000;
  client.close();
  return { seconds, requests, namespaces: ids.map((id) => `rfb-${id}`) };
}

interface Phase {
  createdAt: Map<string, number>;
  readyAt: Map<string, number>;
}

async function main(): Promise<void> {
  const run = randomBytes(3).toString('hex');
  const name = `benchop_${run}`;
  log(`run ${run}: ${N} shared and ${DEDICATED} dedicated tenants; operator client ${QPS} qps / burst ${BURST}; steady state ${STEADY_S} s`);
  await ensureInfra(log);
  const up = spawnSync('bash', [join(REPO_ROOT, 'tools', 'k8s', 'cluster.sh'), 'up'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (up.status !== 0) throw new Error('tools/k8s/cluster.sh up failed; see .rallyforge/k8s/logs/');
  const kube = clusterEnv();

  let stack: IsolatedStack | undefined;
  let interrupted = false;
  let cleaning: Promise<void> | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: cleaning up (tenants, operator, services, databases)`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  let operator: RunningOperator | undefined;
  let client: KubeClient | undefined;
  let tenantInformer: Informer<RallyForgeTenant> | undefined;
  const cleanupNamespaces: string[] = [];
  try {
    client = KubeClient.create({ connection: await connectionFromKubeConfig(loadKubeConfig(kube.KUBECONFIG)), qps: 1000, burst: 2000 });
    log('baseline: a bare client applies the same namespace-layer objects');
    const floor = await baseline(kube.KUBECONFIG, run, N);
    cleanupNamespaces.push(...floor.namespaces);
    log(`baseline: ${floor.requests} applies in ${floor.seconds.toFixed(1)} s`);

    stack = await startIsolatedStack(
      { name, ports: { auth: 4301, claims: 4302, payments: 4303, documents: 4304, realtime: 4305 }, dir: join(STATE_DIR, name), nodeEnv: 'test', logLevel: 'warn' },
      log,
    );
    buildOperator(log);
    installTenantApi(kube);
    const env = {
      ...operatorEnv(kube, name),
      LOG_LEVEL: process.env.BENCH_OPERATOR_LOG_LEVEL ?? 'warn',
      LEADER_ELECTION_LEASE_NAME: `rallyforge-operator-bench-${run}`,
      HEALTH_PORT: String(HEALTH_PORT),
      METRICS_PORT: String(METRICS_PORT),
      TENANT_LABEL_SELECTOR: `${BENCH_LABEL}=${run}`,
      RESYNC_PERIOD_SECONDS: String(RESYNC_S),
      KUBE_API_QPS: String(QPS),
      KUBE_API_BURST: String(BURST),
      RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: ['auth', 'claims', 'payments', 'documents'].map((s) => `${name}_${s}`).join(','),
    };
    operator = startOperator(env, { detach: false });
    if (!operator) throw new Error('the operator did not start');
    const pid = operator.child.pid!;
    const running = operator;
    await waitFor('the operator to be ready', async () => {
      if (running.child.exitCode !== null) throw new Error(`the operator exited with code ${running.child.exitCode}; see .rallyforge/logs/operator.log`);
      return (await fetch(`http://127.0.0.1:${HEALTH_PORT}/readyz`).catch(() => undefined))?.ok === true;
    }, 60_000);

    const tenants = new ResourceClient<RallyForgeTenant>(client, TENANTS);
    const readyAt = new Map<string, number>();
    const onChange = (tenant: RallyForgeTenant) => {
      const ready = tenant.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (ready && !readyAt.has(tenant.metadata.name!)) readyAt.set(tenant.metadata.name!, Date.now());
    };
    tenantInformer = Informer.forResource<RallyForgeTenant>(client, TENANTS, { labelSelector: `${BENCH_LABEL}=${run}`, resyncPeriodMs: 0 });
    tenantInformer.addHandler({ onAdd: onChange, onUpdate: (_, tenant) => onChange(tenant) });
    tenantInformer.start();

    const idleRss = sampleProcess(pid).rssBytes;
    let peakRss = sampleProcess(pid).peakRssBytes;
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, sampleProcess(pid).peakRssBytes);
      } catch {
        // the process ended; reported below
      }
    }, 500);

    const createPhase = async (label: string, names: string[], tier: 'shared' | 'dedicated') => {
      const phase: Phase = { createdAt: new Map(), readyAt };
      const requestsBefore = await operatorRequests();
      const cpuBefore = sampleProcess(pid).cpuSeconds;
      const started = Date.now();
      await pool(names, CREATE_CONCURRENCY, async (tenantName) => {
        phase.createdAt.set(tenantName, Date.now());
        await tenants.create(tenantManifest(tenantName, run, tier));
      });
      log(`${label}: ${names.length} created in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for Ready`);
      await waitFor(`${label}: every tenant Ready`, () => names.every((n) => readyAt.has(n)), READY_TIMEOUT_MS, () => {
        const done = names.filter((n) => readyAt.has(n)).length;
        log(`${label}: ${done}/${names.length} Ready after ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${(sampleProcess(pid).rssBytes / 2 ** 20).toFixed(0)} MiB`);
      });
      const seconds = (Math.max(...names.map((n) => readyAt.get(n)!)) - started) / 1000;
      const latencies = names.map((n) => (readyAt.get(n)! - phase.createdAt.get(n)!) / 1000);
      const requests = diff(await operatorRequests(), requestsBefore);
      const cpu = sampleProcess(pid).cpuSeconds - cpuBefore;
      log(`${label}: all Ready in ${seconds.toFixed(1)} s; requests ${describe(requests)}`);
      return { seconds, latencies, requests, cpuSeconds: cpu };
    };

    // One tenant alone first: its latency is the operator's, not the queue's behind the client's rate limit.
    const oneShared = await createPhase('one shared tenant alone', [`a${run}-shared`], 'shared');
    const oneDedicated = DEDICATED ? await createPhase('one dedicated tenant alone', [`a${run}-dedicated`], 'dedicated') : undefined;
    const shared = await createPhase('shared', Array.from({ length: N }, (_, i) => `s${run}-${i}`), 'shared');
    const dedicated = DEDICATED
      ? await createPhase('dedicated', Array.from({ length: DEDICATED }, (_, i) => `d${run}-${i}`), 'dedicated')
      : undefined;

    log(`steady state: ${STEADY_S} s (resync period ${RESYNC_S} s)`);
    const steadyBefore = await operatorRequests();
    const steadyCpuBefore = sampleProcess(pid).cpuSeconds;
    await new Promise((resolve) => setTimeout(resolve, STEADY_S * 1000));
    const steady = diff(await operatorRequests(), steadyBefore);
    const steadyCpu = sampleProcess(pid).cpuSeconds - steadyCpuBefore;
    const rssAtEnd = sampleProcess(pid).rssBytes;
    peakRss = Math.max(peakRss, sampleProcess(pid).peakRssBytes);
    clearInterval(sampler);
    const steadyWrites = total(steady, (m, r) => isWrite(m) && r !== 'leases');
    const leaseWrites = total(steady, (m, r) => isWrite(m) && r === 'leases');
    log(`steady state: writes ${steadyWrites} (+${leaseWrites} Lease renewals); all requests ${describe(steady)}`);

    log('deleting every bench tenant (deletionPolicy Delete)');
    const deleteStarted = Date.now();
    const all = tenantInformer.list().map((t) => t.metadata.name!);
    await pool(all, CREATE_CONCURRENCY, (tenantName) => tenants.delete(tenantName).catch(() => undefined));
    await waitFor('every bench tenant to be gone', () => tenantInformer!.list().length === 0, READY_TIMEOUT_MS, () => log(`deleting: ${tenantInformer!.list().length} left`));
    const deleteSeconds = (Date.now() - deleteStarted) / 1000;

    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    const f1 = (n: number) => n.toFixed(1);
    const f2 = (n: number) => n.toFixed(2);
    const sharedWrites = total(shared.requests, (m, r) => isWrite(m) && r !== 'leases');
    const rows: string[][] = [
      ['measure', 'value', 'baseline', 'ratio'],
      ['one shared tenant alone: Ready (s)', f2(oneShared.latencies[0]!), '', ''],
      ...(oneDedicated ? [['one dedicated tenant alone: Ready (s)', f2(oneDedicated.latencies[0]!), '', '']] : []),
      [`${N} shared tenants: all Ready (s)`, f1(shared.seconds), f1(floor.seconds), f2(shared.seconds / floor.seconds)],
      ['  per tenant to Ready p50 / p95 / max (s)', `${f1(percentile(shared.latencies, 50))} / ${f1(percentile(shared.latencies, 95))} / ${f1(Math.max(...shared.latencies))}`, '', ''],
      ['  API requests (writes) per tenant', `${f1(total(shared.requests) / N)} (${f1(sharedWrites / N)})`, f1(floor.requests / N), f2(sharedWrites / floor.requests)],
      ['  operator CPU (s)', f1(shared.cpuSeconds), '', ''],
      ...(dedicated
        ? [[`${DEDICATED} dedicated tenants: all Ready (s)`, f1(dedicated.seconds), '', ''], ['  per tenant to Ready p50 / max (s)', `${f1(percentile(dedicated.latencies, 50))} / ${f1(Math.max(...dedicated.latencies))}`, '', '']]
        : []),
      [`steady state ${STEADY_S} s: writes (Lease renewals apart)`, `${steadyWrites} (+${leaseWrites})`, '0', ''],
      ['  API reads', String(total(steady, (m) => !isWrite(m))), '', ''],
      ['  operator CPU (% of one core)', f1((100 * steadyCpu) / STEADY_S), '', ''],
      ['operator RSS: idle before / peak / at end (MiB)', `${mib(idleRss)} / ${mib(peakRss)} / ${mib(rssAtEnd)}`, '', ''],
      [`delete all ${N + DEDICATED + 1 + (DEDICATED ? 1 : 0)} (s)`, f1(deleteSeconds), '', ''],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
    for (const row of rows) process.stdout.write(row.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ') + '\n');
    process.stdout.write(`\nbaseline: a bare client applying the same namespace-layer objects for ${N} tenants at ${QPS} qps / burst ${BURST}, the operator's own limits\n`);
    process.stdout.write(`steady-state requests: ${describe(steady)}\n`);
    const result = {
      one_shared_ready_s: Number(f2(oneShared.latencies[0]!)),
      one_dedicated_ready_s: oneDedicated ? Number(f2(oneDedicated.latencies[0]!)) : null,
      tenants: N,
      dedicated: DEDICATED,
      qps: QPS,
      burst: BURST,
      shared_all_ready_s: Number(f1(shared.seconds)),
      shared_ready_p50_s: Number(f2(percentile(shared.latencies, 50))),
      shared_ready_p95_s: Number(f2(percentile(shared.latencies, 95))),
      shared_ready_max_s: Number(f2(Math.max(...shared.latencies))),
      baseline_apply_s: Number(f1(floor.seconds)),
      ratio_to_baseline: Number(f2(shared.seconds / floor.seconds)),
      requests_per_tenant: Number(f1(total(shared.requests) / N)),
      writes_per_tenant: Number(f1(sharedWrites / N)),
      dedicated_ready_p50_s: dedicated ? Number(f2(percentile(dedicated.latencies, 50))) : null,
      dedicated_ready_max_s: dedicated ? Number(f2(Math.max(...dedicated.latencies))) : null,
      steady_s: STEADY_S,
      steady_writes: steadyWrites,
      steady_lease_writes: leaseWrites,
      steady_cpu_percent: Number(f1((100 * steadyCpu) / STEADY_S)),
      idle_rss_mib: mib(idleRss),
      peak_rss_mib: mib(peakRss),
      end_rss_mib: mib(rssAtEnd),
      delete_all_s: Number(f1(deleteSeconds)),
    };
    process.stdout.write(`BENCH_OPERATOR ${JSON.stringify(result)}\n`);
  } finally {
    await cleanup();
  }

  /** Stops and removes everything the run started and created, once; also on Ctrl-C (see above). */
  function cleanup(): Promise<void> {
    cleaning ??= removeEverything();
    return cleaning;
  }

  async function removeEverything(): Promise<void> {
    await tenantInformer?.stop();
    if (client) {
      // Tenants a failed or interrupted run left: without their finalizer (the operator may be gone) and deleted.
      const tenants = new ResourceClient<RallyForgeTenant>(client, TENANTS);
      const left = (await tenants.list({ labelSelector: `${BENCH_LABEL}=${run}` }).catch(() => ({ items: [] as RallyForgeTenant[] }))).items;
      if (left.length && operator?.child.exitCode === null) {
        await pool(left, CREATE_CONCURRENCY, (t) => tenants.delete(t.metadata.name!).catch(() => undefined));
        await waitFor('the operator to finalize the remaining tenants', async () => (await tenants.list({ labelSelector: `${BENCH_LABEL}=${run}` })).items.length === 0, 120_000).catch(() => undefined);
      }
      for (const t of (await tenants.list({ labelSelector: `${BENCH_LABEL}=${run}` }).catch(() => ({ items: [] as RallyForgeTenant[] }))).items) {
        await tenants.patch(t.metadata.name!, undefined, { metadata: { finalizers: null } }, { type: 'merge' }).catch(() => undefined);
        await tenants.delete(t.metadata.name!).catch(() => undefined);
        cleanupNamespaces.push(`rf-${t.metadata.name!}`);
      }
    }
    if (operator && operator.child.exitCode === null) {
      operator.child.kill('SIGTERM');
      await Promise.race([operator.exited, new Promise((resolve) => setTimeout(resolve, 35_000))]);
    }
    await stack?.stop().catch(() => undefined);
    if (client && cleanupNamespaces.length) {
      const namespaces = new ResourceClient<KubeObject>(client, NAMESPACES);
      await pool(cleanupNamespaces, CREATE_CONCURRENCY, (ns) => namespaces.delete(ns).catch(() => undefined));
    }
    client?.close();
    rmSync(join(STATE_DIR, name), { recursive: true, force: true });
  }
}

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number, progress?: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProgress = Date.now();
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    if (progress && Date.now() - lastProgress > 10_000) {
      progress();
      lastProgress = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[bench:operator] ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
