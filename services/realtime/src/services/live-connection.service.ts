import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AccessTokenVerifier, AppError, AuthUser, SERVICE_CONFIG, forbidden, serviceUnavailable, unauthenticated } from '@rallyforge/service-kit';
import { RealtimeConfig } from '../config';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import {
  CHANNEL_ID_PATTERN,
  CloseCodes,
  LEASE_HEARTBEAT_MULTIPLIER,
  RealtimeErrorCodes,
  RealtimeMessages,
  connectionLeaseKey,
  userChannel,
} from '../realtime.constants';
import { ConnectionLeaseRepository, Lease } from '../repositories/connection-lease.repository';
import { UserChannelRepository } from '../repositories/user-channel.repository';
import { ChannelSubscriptions } from './channel-subscriptions';
import { isDeliverableTenant, parseLiveEvent } from './live-event';
import { LocalConnections } from './local-connections';

/** What the service needs from a WebSocket (the gateway adapts `ws`). */
export interface LiveSocket {
  send(text: string): void;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** What a connecting client presented: the upgrade request, reduced to what matters. */
export interface ConnectionRequest {
  token: string | undefined;
  origin: string | undefined;
  host: string | undefined;
}

/** A connection that passed authentication, holds a lease and a subscription, and waits for its handshake. */
export interface Admission {
  readonly connectionId: string;
  readonly user: AuthUser;
  readonly channel: string;
  readonly lease: Lease;
}

interface OpenConnection {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly admission: Admission;
  readonly socket: LiveSocket;
  alive: boolean;
  send(text: string): void;
}

/**
 * Live connections of this instance: admission (token, origin, per-user limit), delivery of the events of
 * subscribed user channels, heartbeats, and cleanup. Transport-agnostic: the gateway owns HTTP and `ws`.
 */
@Injectable()
export class LiveConnectionService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LiveConnectionService.name);
  private readonly connections = new LocalConnections<OpenConnection>();
  private readonly subscriptions: ChannelSubscriptions;
  private heartbeat?: NodeJS.Timeout;
  private readonly leaseTtlMs: number;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: RealtimeConfig,
    @Inject(AccessTokenVerifier) private readonly verifier: AccessTokenVerifier,
    private readonly channels: UserChannelRepository,
    private readonly leases: ConnectionLeaseRepository,
    private readonly metrics: RealtimeMetrics,
  ) {
    this.subscriptions = new ChannelSubscriptions(channels);
    this.leaseTtlMs = config.REALTIME_HEARTBEAT_INTERVAL_MS * LEASE_HEARTBEAT_MULTIPLIER;
  }

  onModuleInit(): void {
    this.channels.onMessage((channel, message) => this.deliver(channel, message));
    this.heartbeat = setInterval(() => void this.tick(), this.config.REALTIME_HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /**
   * Decides whether a client may connect, before the WebSocket handshake: a valid token first, then the origin,
   * then a lease under the per-user limit, then the user's channel subscription (confirmed by Redis, so that
   * nothing published after the handshake is missed). Throws AppError (401, 403, 429, 503).
   */
  async admit(request: ConnectionRequest): Promise<Admission> {
    if (!request.token) throw unauthenticated(RealtimeMessages.missingToken);
    const user = await this.verifier.verify(request.token);
    if (!isDeliverableTenant(user.tenantId) || !CHANNEL_ID_PATTERN.test(user.userId)) throw forbidden(RealtimeMessages.unusableIdentity);
    if (!this.originAllowed(request.origin, request.host)) {
      throw new AppError(403, RealtimeErrorCodes.originNotAllowed, RealtimeMessages.originNotAllowed);
    }

    const connectionId = randomUUID();
    const lease: Lease = { key: connectionLeaseKey(user.tenantId, user.userId), connectionId };
    const limit = this.config.REALTIME_MAX_CONNECTIONS_PER_USER;
    if (!(await this.redisStep(() => this.leases.acquire(lease, limit, this.leaseTtlMs)))) {
      throw new AppError(429, RealtimeErrorCodes.tooManyConnections, RealtimeMessages.tooManyConnections(limit));
    }
    const channel = userChannel(user.tenantId, user.userId);
    try {
      await this.redisStep(() => this.subscriptions.acquire(channel));
    } catch (error) {
      await this.leases.release(lease).catch(() => undefined);
      throw error;
    }
    return { connectionId, user, channel, lease };
  }

  /** Without Redis a socket would receive nothing: refuse with 503 (retry later) rather than a bare 500. */
  private async redisStep<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.logger.warn(RealtimeMessages.redisUnavailable(error instanceof Error ? error.message : String(error)));
      throw serviceUnavailable(RealtimeMessages.liveUpdatesUnavailable);
    }
  }

  /** The handshake did not complete: give back what `admit` took. */
  async abandon(admission: Admission): Promise<void> {
    this.subscriptions.release(admission.channel);
    await this.leases.release(admission.lease).catch(() => undefined);
  }

  /** The handshake completed: from now on the socket receives its user's events. */
  open(admission: Admission, socket: LiveSocket): void {
    const connection: OpenConnection = {
      id: admission.connectionId,
      tenantId: admission.user.tenantId,
      userId: admission.user.userId,
      admission,
      socket,
      alive: true,
      send: (text) => socket.send(text),
    };
    this.connections.add(admission.channel, connection);
    this.metrics.connections.set(this.connections.size);
    this.logger.debug(RealtimeMessages.socketOpened(admission.connectionId));
  }

  /** The client answered a ping. */
  pong(admission: Admission): void {
    const connection = this.connections.forKey(admission.channel).find((c) => c.id === admission.connectionId);
    if (connection) connection.alive = true;
  }

  /** The socket closed (either side): forget it, and drop the subscription and lease it held. */
  async closed(admission: Admission, code: number): Promise<void> {
    const known = this.connections.forKey(admission.channel).some((c) => c.id === admission.connectionId);
    if (!known) return;
    this.connections.remove(admission.channel, admission.connectionId);
    this.metrics.connections.set(this.connections.size);
    this.logger.debug(RealtimeMessages.socketClosed(admission.connectionId, code));
    await this.abandon(admission);
  }

  /** A message from a user channel: write it to this instance's sockets of that user (and only those). */
  deliver(channel: string, message: string): void {
    const event = parseLiveEvent(message);
    if (!event) {
      this.logger.warn(RealtimeMessages.invalidChannelMessage(channel));
      return;
    }
    const text = JSON.stringify(event);
    for (const connection of this.connections.forKey(channel)) {
      connection.send(text);
      this.metrics.messagesSent.inc({ type: event.type });
    }
  }

  /** Number of sockets open on this instance. */
  get size(): number {
    return this.connections.size;
  }

  /**
   * One heartbeat: a socket that did not answer the previous ping is terminated (its TCP peer is gone or stuck);
   * the others are pinged, and the leases of all live ones renewed.
   */
  async tick(): Promise<void> {
    const live: Lease[] = [];
    for (const connection of this.connections.all()) {
      if (!connection.alive) {
        this.logger.debug(RealtimeMessages.socketStale(connection.id));
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
      live.push(connection.admission.lease);
    }
    try {
      await this.leases.renew(live, this.leaseTtlMs);
    } catch (error) {
      this.logger.warn(RealtimeMessages.leaseRenewFailed(error instanceof Error ? error.message : String(error)));
    }
  }

  /** Shutdown: tell every client to reconnect elsewhere (1001), then stop the heartbeat and the subscriber. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.heartbeat);
    const open = this.connections.all();
    for (const connection of open) connection.socket.close(CloseCodes.goingAway, 'server shutting down');
    await Promise.all(open.map((c) => this.closed(c.admission, CloseCodes.goingAway)));
    await this.channels.close();
  }

  /**
   * Cross-site WebSocket hijacking defence: a browser always sends Origin; accept it only for the page's own
   * host or an origin in CORS_ORIGINS. Non-browser clients send no Origin and are judged by their token alone.
   */
  private originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.config.CORS_ORIGINS.includes(origin)) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
}
