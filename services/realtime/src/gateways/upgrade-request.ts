import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TOKEN_QUERY_PARAMETER } from '../realtime.constants';

/** Path and query of an upgrade request; a relative URL is resolved against a dummy base. */
export function parseRequestUrl(rawUrl: string | undefined): URL {
  return new URL(rawUrl ?? '/', 'http://upgrade.invalid');
}

/**
 * The access token of an upgrade request: `Authorization: Bearer <token>` first, else `?token=` (browsers cannot
 * set headers on a WebSocket). An Authorization header of another scheme counts as no token: it is never
 * silently ignored in favour of the query.
 */
export function extractAccessToken(authorization: string | undefined, url: URL): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
    return match ? match[1] : undefined;
  }
  const fromQuery = url.searchParams.get(TOKEN_QUERY_PARAMETER);
  return fromQuery ? fromQuery : undefined;
}

/** The request id to echo in an error body: the gateway's when it sent a sane one, else a fresh one. */
export function upgradeRequestId(request: IncomingMessage, fallback: () => string): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : fallback();
}

/**
 * Answers an upgrade request with a plain HTTP error (before any WebSocket handshake) and closes the socket.
 * The body is the service-wide error shape, so clients handle it like any other error.
 */
export function rejectUpgrade(socket: Duplex, status: number, body: object, extraHeaders: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const json = JSON.stringify(body);
  const headers: Record<string, string> = {
    Connection: 'close',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(json)),
    'Cache-Control': 'no-store',
    ...extraHeaders,
  };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${head.join('\r\n')}\r\n\r\n${json}`);
}
