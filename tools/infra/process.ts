import { spawn, spawnSync, SpawnSyncOptions } from 'node:child_process';
import { createConnection } from 'node:net';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws, so callers decide what a failure means. */
export function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): RunResult {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return {
    status: result.status ?? (result.error ? 127 : 1),
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? (result.error ? result.error.message : '')),
  };
}

/** Runs a command and throws with its output when it fails. */
export function mustRun(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = run(cmd, args, options);
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

/** Starts a long-running process detached from us, output appended to a log file. */
export function spawnDetached(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env: env ?? process.env });
  child.unref();
  fs.closeSync(out);
  return child.pid ?? -1;
}

export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or the deadline passes; the error names what we waited for. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, hint = ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}.${hint ? ` ${hint}` : ''}`);
}

export function commandExists(cmd: string): boolean {
  return run('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
