import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (never throws on a non-zero exit; callers assert on it). */
export function run(command: string, args: string[], options: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // env explicitly: under jest, process.env is the sandbox's copy (where ensureCluster() put
    // KUBECONFIG and the tools' PATH), not the one child_process would otherwise inherit.
    const child = spawn(command, args, { cwd: options.cwd, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 5 * 60_000);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Could not run ${command}: ${error.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command and returns its stdout, failing with its output when it exits non-zero. */
export async function runOk(command: string, args: string[], options: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}
