import * as http from 'node:http';
import * as https from 'node:https';
import { type Clock, sleep, systemClock } from './clock';
import type { ControllerMetrics } from './metrics';
import { TokenBucket } from './rate-limiter';
import type { KubeObject, KubeStatus, WatchEvent } from './resource';

/** client-go's default client-side limit (rest.Config QPS)... */
export const DEFAULT_CLIENT_QPS = 20;
/** ...and burst, as controller-runtime sets them. */
export const DEFAULT_CLIENT_BURST = 30;
/** Deadline of a non-watch request (client-go has none by default; a hung request must not stall a worker). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_USER_AGENT = 'rallyforge-operator';
/** A watch still open this long after its timeoutSeconds is treated as a dead connection. */
export const WATCH_DEADLINE_SLACK_SECONDS = 30;

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_MERGE_PATCH = 'application/merge-patch+json';
export const CONTENT_TYPE_JSON_PATCH = 'application/json-patch+json';
export const CONTENT_TYPE_STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
/** Server-side apply; JSON is valid YAML, so the body is plain JSON. */
export const CONTENT_TYPE_APPLY_PATCH = 'application/apply-patch+yaml';

/** How to reach and authenticate to an API server (see connectionFromKubeConfig). */
export interface KubeConnection {
  /** Base URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  tls?: {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    rejectUnauthorized?: boolean;
    servername?: string;
  };
  /** Headers for each request (Authorization); called per request, so rotating tokens are picked up. */
  authenticate?: () => Promise<Record<string, string>>;
}

export interface KubeClientOptions {
  connection: KubeConnection;
  /** @default 20 (DEFAULT_CLIENT_QPS) */
  qps?: number;
  /** @default 30 (DEFAULT_CLIENT_BURST) */
  burst?: number;
  /** @default 30 s (DEFAULT_REQUEST_TIMEOUT_MS); watches are bounded by their timeoutSeconds instead */
  requestTimeoutMs?: number;
  /** @default 'rallyforge-operator' */
  userAgent?: string;
  clock?: Clock;
  /** Counts requests in rest_client_requests_total. */
  metrics?: ControllerMetrics;
}

export type QueryValue = string | number | boolean | undefined;

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** @default application/json */
  contentType?: string;
  signal?: AbortSignal;
}

/** A non-2xx answer of the API server, with its Status body. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    readonly statusCode: number,
    readonly status: KubeStatus,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} failed with ${statusCode}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? 'no message'}`);
  }

  get reason(): string | undefined {
    return this.status.reason;
  }
}

function hasStatus(error: unknown, code: number): boolean {
  return error instanceof KubeApiError && error.statusCode === code;
}

export const isNotFound = (error: unknown): boolean => hasStatus(error, 404);
export const isConflict = (error: unknown): boolean => hasStatus(error, 409);
export const isAlreadyExists = (error: unknown): boolean =>
  hasStatus(error, 409) && (error as KubeApiError).reason === 'AlreadyExists';
/** 410 Gone / reason Expired: the requested resourceVersion is older than etcd's compaction window. */
export const isGone = (error: unknown): boolean => hasStatus(error, 410);

/**
 * A thin HTTP client for the Kubernetes API: JSON in and out, streaming watches, client-side QPS/burst, and
 * errors that carry the server's Status. Typed access per kind is `ResourceClient`.
 */
export class KubeClient {
  private readonly baseUrl: URL;
  private readonly agent: http.Agent;
  private readonly bucket: TokenBucket;
  private readonly clock: Clock;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;
  private readonly metrics?: ControllerMetrics;

  private constructor(private readonly options: KubeClientOptions) {
    this.baseUrl = new URL(options.connection.server);
    if (this.baseUrl.protocol !== 'https:' && this.baseUrl.protocol !== 'http:') {
      throw new Error(`Unsupported API server URL ${options.connection.server}: use https:// (or http:// for a test proxy).`);
    }
    this.clock = options.clock ?? systemClock;
    this.bucket = new TokenBucket(options.qps ?? DEFAULT_CLIENT_QPS, options.burst ?? DEFAULT_CLIENT_BURST, this.clock);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.metrics = options.metrics;
    const tls = options.connection.tls ?? {};
    this.agent =
      this.baseUrl.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ...tls })
        : new http.Agent({ keepAlive: true });
  }

  static create(options: KubeClientOptions): KubeClient {
    return new KubeClient(options);
  }

  /** The API server's host:port, as used in metrics. */
  get host(): string {
    return this.baseUrl.host;
  }

  /** Sends one request and parses the JSON answer; throws KubeApiError on a non-2xx status. */
  async request<T>(request: KubeRequest): Promise<T> {
    const signals = [AbortSignal.timeout(this.requestTimeoutMs), request.signal].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const response = await this.send(request, AbortSignal.any(signals));
    const text = await readBody(response);
    if (isSuccess(response.statusCode)) return (text ? JSON.parse(text) : undefined) as T;
    throw new KubeApiError(response.statusCode ?? 0, parseStatus(text, response.statusCode), request.method, request.path);
  }

  /**
   * Opens a watch (`?watch=true`) and yields its events until the server ends the stream (its timeoutSeconds),
   * the consumer stops iterating, or `signal` aborts (then the generator just returns). A non-2xx answer to the
   * watch request itself throws KubeApiError; ERROR events are yielded as they come, for the caller to judge.
   */
  async *watch<T extends KubeObject>(
    path: string,
    query: Record<string, QueryValue>,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>> {
    // The server ends a watch after its timeoutSeconds. A connection that silently died (no FIN, no RST) would
    // otherwise hang until TCP keepalive notices, minutes later: past this deadline the stream counts as broken.
    const timeoutSeconds = Number(query.timeoutSeconds);
    const streamSignal =
      timeoutSeconds > 0
        ? AbortSignal.any([signal, AbortSignal.timeout((timeoutSeconds + WATCH_DEADLINE_SLACK_SECONDS) * 1000)])
        : signal;
    const request: KubeRequest = { method: 'GET', path, query: { ...query, watch: true }, signal: streamSignal };
    let response: http.IncomingMessage;
    try {
      response = await this.send(request, streamSignal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (!isSuccess(response.statusCode)) {
      const text = await readBody(response);
      throw new KubeApiError(response.statusCode ?? 0, parseStatus(text, response.statusCode), 'GET', path);
    }
    response.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of response as AsyncIterable<string>) {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
          newline = buffered.indexOf('\n');
        }
      }
      if (buffered.trim()) yield JSON.parse(buffered) as WatchEvent<T>;
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      response.destroy();
    }
  }

  /**
   * A client on the same connection with a token bucket of its own (same QPS and burst). controller-runtime gives
   * leader election and the event broadcaster clients of their own, so that neither a burst of reconciles can starve
   * the lease renewal nor Events eat the reconcilers' budget; the Manager does the same with this.
   */
  withOwnRateLimit(): KubeClient {
    return new KubeClient(this.options);
  }

  /** Closes idle keep-alive connections (open watches end through their signals). */
  close(): void {
    this.agent.destroy();
  }

  private async send(request: KubeRequest, signal: AbortSignal): Promise<http.IncomingMessage> {
    const wait = this.bucket.reserve();
    if (wait > 0) await sleep(this.clock, wait, signal);
    signal.throwIfAborted();

    const url = new URL(this.baseUrl.pathname.replace(/\/$/, '') + request.path, this.baseUrl);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      Accept: CONTENT_TYPE_JSON,
      'User-Agent': this.userAgent,
      ...(await this.options.connection.authenticate?.()),
    };
    let payload: string | undefined;
    if (request.body !== undefined) {
      payload = JSON.stringify(request.body);
      headers['Content-Type'] = request.contentType ?? CONTENT_TYPE_JSON;
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method: request.method, headers, agent: this.agent, signal }, (res) => {
        this.metrics?.request(String(res.statusCode ?? 0), request.method, this.host, request.path);
        resolve(res);
      });
      // `on`, not `once`: an aborted request can emit more than one error, and an unheard one would crash.
      let failed = false;
      req.on('error', (error) => {
        if (failed) return;
        failed = true;
        this.metrics?.request('<error>', request.method, this.host, request.path);
        reject(signal.aborted && signal.reason instanceof Error ? signal.reason : error);
      });
      req.end(payload);
    });
  }
}

function isSuccess(statusCode: number | undefined): boolean {
  return statusCode !== undefined && statusCode >= 200 && statusCode < 300;
}

async function readBody(response: http.IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response as AsyncIterable<string>) text += chunk;
  return text;
}

/** The Status in an error body, or one made up from a non-JSON body (a proxy's HTML, a plain-text 503). */
function parseStatus(text: string, statusCode: number | undefined): KubeStatus {
  try {
    const parsed = JSON.parse(text) as KubeStatus;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // not JSON: fall through
  }
  return { kind: 'Status', status: 'Failure', code: statusCode, message: text.slice(0, 500) || http.STATUS_CODES[statusCode ?? 0] };
}
