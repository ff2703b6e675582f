import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');

interface RunningService {
  child: ChildProcess;
  baseUrl: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts test/fixtures/drain-main.ts as a real process and waits for its "started" log line. */
async function startService(env: Record<string, string>): Promise<RunningService> {
  const child = spawn(process.execPath, ['-r', join(ROOT, 'test', 'swc-register.js'), join(ROOT, 'test', 'fixtures', 'drain-main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks.json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in time; stderr: ${stderr}`)), 30_000);
    void exited.then(({ code }) => reject(new Error(`service exited with ${code} before starting; stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (typeof parsed.url === 'string' && String(parsed.msg).endsWith('started')) {
          clearTimeout(timer);
          resolve(parsed.url.replace('[::1]', '127.0.0.1'));
        }
      } catch {
        lines.push({ raw: line });
      }
    });
  });
  return { child, baseUrl, lines, exited };
}

/** A GET over its own connection; resolves with status and body, or rejects when the connection is cut. */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits until the service has logged `msg` (timing by events, not sleeps: the machine may be busy). */
async function logged(lines: Array<Record<string, unknown>>, msg: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((line) => line.msg === msg)) {
    if (Date.now() > deadline) throw new Error(`"${msg}" was not logged within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('graceful shutdown (child process)', () => {
  let service: RunningService | undefined;

  afterEach(() => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    service = undefined;
  });

  it('on SIGTERM lets an in-flight request finish, stops the bus, refuses new connections and exits 0', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '5000' });
    const { baseUrl, child, lines, exited } = service;
    const ready = await httpGet(`${baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ info: { lifecycle: { status: 'up' }, bus: { status: 'up' } } });

    const inFlight = httpGet(`${baseUrl}/api/v1/drain/slow?ms=1500`);
    await logged(lines, 'Slow request started');
    child.kill('SIGTERM');
    await logged(lines, 'Shutdown started');
    await expect(httpGet(`${baseUrl}/health/live`)).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);

    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toEqual({ waitedMs: 1500 });
    expect(await exited).toEqual({ code: 0, signal: null });

    const messages = lines.map((line) => line.msg);
    const order = ['Fake bus listening', 'Shutdown started', 'Fake bus stopped consuming', 'Fake bus closed', 'Shutdown completed'];
    expect(messages).toEqual(expect.arrayContaining(order));
    expect(order.map((msg) => messages.indexOf(msg))).toEqual([...order.map((msg) => messages.indexOf(msg))].sort((a, b) => a - b));
  });

  it('cuts off requests still running at SHUTDOWN_TIMEOUT_MS and still exits 0', async () => {
    service = await startService({ SHUTDOWN_TIMEOUT_MS: '500' });
    const { baseUrl, child, lines, exited } = service;
    const tooSlow = httpGet(`${baseUrl}/api/v1/drain/slow?ms=10000`).then(
      () => 'answered',
      () => 'cut off',
    );
    await logged(lines, 'Slow request started');
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    expect(await tooSlow).toBe('cut off');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(lines.some((line) => String(line.msg).includes('cutting them off'))).toBe(true);
  });
});
