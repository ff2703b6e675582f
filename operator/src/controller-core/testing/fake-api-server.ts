import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Answers one request: a status and JSON body, or full control of the response (watch streams). */
export type FakeRoute = (
  request: RecordedRequest,
  response: http.ServerResponse,
) => { status: number; body?: unknown } | 'handled';

/** A plain-HTTP stand-in for the API server in unit tests of the client and what sits on it. */
export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  private constructor(
    private readonly server: http.Server,
    private route: FakeRoute,
  ) {}

  static async start(route: FakeRoute): Promise<FakeApiServer> {
    const server = http.createServer();
    const fake = new FakeApiServer(server, route);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => fake.handle(req, res, text));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  setRoute(route: FakeRoute): void {
    this.route = route;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(recorded);
    const answer = this.route(recorded, res);
    if (answer === 'handled') return;
    res.writeHead(answer.status, { 'Content-Type': 'application/json' });
    res.end(answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  }
}
