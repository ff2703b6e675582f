import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ServiceLifecycle, serviceUnavailable, toErrorBody } from '@rallyforge/service-kit';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import { MAX_CLIENT_MESSAGE_BYTES, RealtimeErrorCodes, RealtimeMessages, WEBSOCKET_PATH } from '../realtime.constants';
import { Admission, LiveConnectionService, LiveSocket } from '../services/live-connection.service';
import { extractAccessToken, parseRequestUrl, rejectUpgrade, upgradeRequestId } from './upgrade-request';

/** A client that reads slower than events arrive is cut off rather than buffered without bound. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

const REFUSAL_REASONS: Readonly<Record<number, string>> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many',
  503: 'unavailable',
};

/**
 * The WebSocket endpoint: handles `upgrade` on the service's own HTTP server (RFC 6455 via `ws`, no Socket.IO),
 * so live updates share the port, probes and lifecycle of the rest of the service. Everything before the
 * handshake is plain HTTP: a refused client gets a normal status and the usual error body, never a socket.
 */
@Injectable()
export class WebSocketGateway implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebSocketGateway.name);
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false });
  private server?: Server;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    void this.handleUpgrade(request, socket, head).catch((error: unknown) => {
      this.logger.error(RealtimeMessages.upgradeFailed(error instanceof Error ? error.message : String(error)));
      socket.destroy();
    });

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly connections: LiveConnectionService,
    private readonly metrics: RealtimeMetrics,
    @Optional() private readonly lifecycle?: ServiceLifecycle,
  ) {}

  onApplicationBootstrap(): void {
    this.server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.onUpgrade);
  }

  /** Before the HTTP server closes: stop taking upgrades (open sockets are closed by LiveConnectionService). */
  onModuleDestroy(): void {
    this.server?.off('upgrade', this.onUpgrade);
    this.wss.close();
  }

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A client that resets mid-handshake must not crash the process.
    const onEarlyError = () => socket.destroy();
    socket.on('error', onEarlyError);
    const requestId = upgradeRequestId(request, randomUUID);
    const url = parseRequestUrl(request.url);

    if (url.pathname !== WEBSOCKET_PATH) {
      return this.refuse(socket, { statusCode: 404, code: RealtimeErrorCodes.notFound, message: RealtimeMessages.unknownPath, requestId });
    }
    if (this.lifecycle?.isShuttingDown) {
      return this.refuse(socket, toErrorBody(serviceUnavailable(), requestId));
    }

    let admission: Admission;
    try {
      admission = await this.connections.admit({
        token: extractAccessToken(request.headers.authorization, url),
        origin: request.headers.origin,
        host: request.headers.host,
      });
    } catch (error) {
      return this.refuse(socket, toErrorBody(error, requestId));
    }

    // ws answers a malformed handshake with 400 and destroys the socket without calling back: release on close.
    let opened = false;
    const onClosedBeforeOpen = () => {
      if (!opened) void this.connections.abandon(admission);
    };
    socket.once('close', onClosedBeforeOpen);
    if (socket.destroyed) return onClosedBeforeOpen();

    this.wss.handleUpgrade(request, socket, head, (ws) => {
      opened = true;
      socket.off('close', onClosedBeforeOpen);
      socket.off('error', onEarlyError);
      this.attach(admission, ws);
    });
  }

  private attach(admission: Admission, ws: WebSocket): void {
    const socket: LiveSocket = {
      send: (text) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.terminate();
        ws.send(text);
      },
      ping: () => ws.ping(),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
    };
    ws.on('pong', () => this.connections.pong(admission));
    // Clients only listen; ws itself closes the socket (1009) on frames above maxPayload.
    ws.on('error', () => ws.terminate());
    ws.on('close', (code: number) => void this.connections.closed(admission, code));
    this.connections.open(admission, socket);
  }

  private refuse(socket: Duplex, body: { statusCode: number; code: string; message: string; requestId: string }): void {
    this.metrics.connectionsRefused.inc({ reason: REFUSAL_REASONS[body.statusCode] ?? 'error' });
    rejectUpgrade(socket, body.statusCode, body, body.statusCode === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
  }
}
