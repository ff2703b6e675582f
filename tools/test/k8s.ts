import { spawn } from 'node:child_process';
import * as path from 'node:path';

/**
 * The local Kubernetes control plane for test suites (tools/k8s/cluster.sh): etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok's fake nodes. See docs/runbooks/local-control-plane.md.
 */
export interface LocalCluster {
  /** Admin kubeconfig (system:masters) of the running cluster. */
  kubeconfig: string;
  /** Directories holding kubectl, helm, kwok and etcd of the pinned versions, most specific first. */
  binDir: string[];
}

export interface EnsureClusterOptions {
  /**
   * Also set KUBECONFIG and prepend `binDir` to PATH in this process, so that child processes
   * (kubectl, helm) and, from a jest globalSetup, every test worker use the cluster. Inside a test
   * file jest sandboxes `process.env`: pass `env: process.env` (or the values returned) to child
   * processes explicitly.
   * @default true
   */
  exportEnv?: boolean;
  /** Receives cluster.sh's progress lines. @default writes them to stderr */
  log?: (line: string) => void;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLUSTER_SCRIPT = path.join(REPO_ROOT, 'tools', 'k8s', 'cluster.sh');
/**
 * Budget for `cluster.sh up`. Warm it takes seconds; on a fresh machine it first builds every tool
 * from Go modules, which took about 8 minutes on 2 shared cores.
 */
const CLUSTER_UP_TIMEOUT_MS = 60 * 60 * 1000;
const ERROR_TAIL_LINES = 40;

let pending: Promise<LocalCluster> | undefined;

/**
 * Starts the local control plane unless it already runs (idempotent, and shared by concurrent callers
 * in this process; cluster.sh itself serialises callers across processes with a lock file).
 */
export async function ensureCluster(options: EnsureClusterOptions = {}): Promise<LocalCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  pending ??= startCluster(log).catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  const cluster = await pending;
  if (options.exportEnv ?? true) exportClusterEnv(cluster);
  return cluster;
}

/** Points KUBECONFIG at the cluster and puts its tools first on PATH, once. */
export function exportClusterEnv(cluster: LocalCluster): void {
  process.env.KUBECONFIG = cluster.kubeconfig;
  const prefix = cluster.binDir.join(path.delimiter);
  const current = process.env.PATH ?? '';
  if (!current.startsWith(prefix)) process.env.PATH = current ? `${prefix}${path.delimiter}${current}` : prefix;
}

async function startCluster(log: (line: string) => void): Promise<LocalCluster> {
  const up = await runBash([CLUSTER_SCRIPT, 'up'], CLUSTER_UP_TIMEOUT_MS, log);
  if (up.status !== 0) {
    const tail = up.output.split('\n').slice(-ERROR_TAIL_LINES).join('\n');
    throw new Error(
      `bash tools/k8s/cluster.sh up failed (exit ${up.status}). Its output ends with:\n${tail}\n` +
        'Component logs are in .rallyforge/k8s/logs/; docs/runbooks/local-control-plane.md has troubleshooting steps.',
    );
  }
  return readClusterEnv();
}

/**
 * Reads KUBECONFIG and the tool directories from `cluster.sh env`, letting bash evaluate its export
 * lines so there is one source of truth for paths (and their quoting).
 */
async function readClusterEnv(): Promise<LocalCluster> {
  const script =
    'before="$PATH"; eval "$(bash "$1" env)"; printf "%s\\n" "$KUBECONFIG" "${PATH%":$before"}"';
  const result = await runBash(['-c', script, 'cluster-env', CLUSTER_SCRIPT], 30_000);
  const [kubeconfig, binPath] = result.output.split('\n');
  if (result.status !== 0 || !kubeconfig || !binPath) {
    throw new Error(`bash tools/k8s/cluster.sh env failed (exit ${result.status}):\n${result.output}`);
  }
  return { kubeconfig, binDir: binPath.split(path.delimiter).filter(Boolean) };
}

interface BashResult {
  status: number;
  output: string;
}

/** Runs bash to completion: stdout is returned; stderr lines go to `log` (when given) and the output. */
function runBash(args: string[], timeoutMs: number, log?: (line: string) => void): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: string[] = [];
    const stderr: string[] = [];
    let partial = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr.push(chunk);
      if (!log) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(log);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Could not run bash ${args.join(' ')}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (log && partial) log(partial);
      const status = code ?? (signal ? 128 : 1);
      // On success only stdout matters to callers; on failure both streams explain what happened.
      resolve({ status, output: status === 0 ? stdout.join('').trimEnd() : [...stdout, ...stderr].join('').trimEnd() });
    });
  });
}
