import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { join } from 'node:path';

export interface HttpResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export async function measure(url: string, headers: Record<string, string>, durationS: number, connections: number): Promise<HttpResult> {
  const result = await autocannon({ url, headers, duration: durationS, connections, pipelining: 1 });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** The baseline: a bare Fastify hello-world on this machine, in this run, in its own process. */
export async function fastifyBaseline(port: number, durationS: number, connections: number): Promise<HttpResult> {
  const child = fork(join(__dirname, 'baseline-server.ts'), [String(port)], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  });
  try {
    await measure(`http://127.0.0.1:${port}/`, {}, 2, connections); // warm-up
    return await measure(`http://127.0.0.1:${port}/`, {}, durationS, connections);
  } finally {
    child.kill('SIGTERM');
  }
}
