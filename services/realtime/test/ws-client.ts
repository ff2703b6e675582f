import { WebSocket, type ClientOptions } from 'ws';

/** A connected test client that records what it receives. */
export interface LiveClient {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number }>;
  close(): Promise<void>;
}

/** The HTTP answer to a refused upgrade. */
export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export function connectClient(url: string, options: ClientOptions = {}): Promise<LiveClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const messages: Array<Record<string, unknown>> = [];
    const closed = new Promise<{ code: number }>((done) => ws.once('close', (code) => done({ code })));
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        closed,
        close: async () => {
          if (ws.readyState !== WebSocket.CLOSED) ws.close();
          await closed;
        },
      }),
    );
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const refusal: Refusal = { status: response.statusCode ?? 0, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
        reject(Object.assign(new Error(`upgrade refused with ${refusal.status}`), { refusal }));
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

/** Connects, expecting a refusal; resolves to the HTTP answer. */
export async function refusedUpgrade(url: string, options: ClientOptions = {}): Promise<Refusal> {
  try {
    const client = await connectClient(url, options);
    await client.close();
  } catch (error) {
    const refusal = (error as { refusal?: Refusal }).refusal;
    if (refusal) return refusal;
    throw error;
  }
  throw new Error('expected the upgrade to be refused');
}

export async function waitUntil(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
