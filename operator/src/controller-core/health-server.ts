import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errorMessage, type Logger, silentLogger } from './logger';

/** controller-runtime's default probe port (`--health-probe-bind-address=:8081`). */
export const DEFAULT_HEALTH_PORT = 8081;
/** A check that takes longer than this fails: a probe must answer before the kubelet's timeout (1 s default). */
export const HEALTH_CHECK_TIMEOUT_MS = 900;

/** Returns a failure message, or undefined when healthy. */
export type HealthCheck = () => string | undefined | Promise<string | undefined>;

export interface HealthServerOptions {
  /** 0 picks a free port (tests). @default 8081 */
  port?: number;
  /** @default '0.0.0.0' */
  host?: string;
  /** Served at /metrics when given. */
  registry?: Registry;
  logger?: Logger;
}

/**
 * /healthz (liveness), /readyz (readiness) and, when given a registry, /metrics, in the shape of
 * controller-runtime's probe endpoints: 200 `ok`, or 500 with one `[+]name ok` / `[-]name failed: reason` line per
 * check. `?verbose` lists the checks on success too; `/healthz/<name>` runs one check.
 * Keep external dependencies out of liveness: an API server outage must not restart every replica.
 */
export class HealthServer {
  private readonly healthz = new Map<string, HealthCheck>();
  private readonly readyz = new Map<string, HealthCheck>();
  private readonly server: http.Server;
  private readonly options: HealthServerOptions;
  private readonly logger: Logger;

  private constructor(options: HealthServerOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(errorMessage(error));
      });
    });
    this.addHealthzCheck('ping', () => undefined);
    this.addReadyzCheck('ping', () => undefined);
  }

  static create(options: HealthServerOptions = {}): HealthServer {
    return new HealthServer(options);
  }

  addHealthzCheck(name: string, check: HealthCheck): void {
    this.healthz.set(name, check);
  }

  addReadyzCheck(name: string, check: HealthCheck): void {
    this.readyz.set(name, check);
  }

  /** Listens; resolves with the bound port. */
  async start(): Promise<number> {
    const port = this.options.port ?? DEFAULT_HEALTH_PORT;
    const host = this.options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.logger.info(`Started health probes on ${host}:${this.port}`);
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://probe');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/metrics' && this.options.registry) {
      const body = await this.options.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.options.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const [, endpoint, only] = url.pathname.split('/');
    const checks = endpoint === 'healthz' || endpoint === 'livez' ? this.healthz : endpoint === 'readyz' ? this.readyz : undefined;
    if (!checks || (only !== undefined && !checks.has(only))) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    const selected = only !== undefined ? [[only, checks.get(only) as HealthCheck] as const] : [...checks];
    const results = await Promise.all(selected.map(async ([name, check]) => [name, await runCheck(check)] as const));
    const failed = results.some(([, failure]) => failure !== undefined);
    const verbose = url.searchParams.has('verbose') || failed;
    const lines = results.map(([name, failure]) => (failure === undefined ? `[+]${name} ok` : `[-]${name} failed: ${failure}`));
    const body = verbose ? `${lines.join('\n')}\n${endpoint} check ${failed ? 'failed' : 'passed'}\n` : 'ok';
    res
      .writeHead(failed ? 500 : 200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
      .end(req.method === 'HEAD' ? undefined : body);
  }
}

async function runCheck(check: HealthCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`), HEALTH_CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    return errorMessage(error);
  } finally {
    clearTimeout(timer);
  }
}
