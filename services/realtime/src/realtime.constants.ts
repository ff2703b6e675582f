/**
 * Named defaults, error codes and log messages of the realtime service (nest's `RQM_DEFAULT_*` idea): tests and
 * log searches refer to the same values as the code.
 */

export const SERVICE_NAME = 'realtime';

/** The WebSocket endpoint on the service's own HTTP port (behind the gateway: /ws). */
export const WEBSOCKET_PATH = '/ws';
/** Query parameter browsers use for the access token (they cannot set Authorization on a WebSocket). */
export const TOKEN_QUERY_PARAMETER = 'token';

export const DEFAULT_MAX_CONNECTIONS_PER_USER = 5;
/** Ping every interval; a socket that did not answer the previous ping by the next tick is closed. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
/**
 * A connection's lease in Redis (counts toward the per-user limit across instances) lasts this many heartbeat
 * intervals; every tick renews it, so an instance that dies frees its users' slots within this time.
 */
export const LEASE_HEARTBEAT_MULTIPLIER = 3;
/** Clients only listen; anything they send is ignored, and big frames close the socket (1009). */
export const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024;

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CloseCodes = {
  goingAway: 1001,
} as const;

/** Redis channels and keys, all under the tenant prefix `t:<tenantId>:` (TENANCY.md: Redis ACLs per tenant). */
export const userChannel = (tenantId: string, userId: string): string => `t:${tenantId}:user:${userId}`;
export const connectionLeaseKey = (tenantId: string, userId: string): string => `t:${tenantId}:realtime:connections:${userId}`;

/** Ids that go into channel names: no separators or glob characters, so one tenant can never name another's channel. */
export const CHANNEL_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export const RealtimeErrorCodes = {
  tooManyConnections: 'TOO_MANY_CONNECTIONS',
  originNotAllowed: 'ORIGIN_NOT_ALLOWED',
  notFound: 'NOT_FOUND',
} as const;

export const RealtimeMessages = {
  missingToken: `Send the access token as "Authorization: Bearer <token>" or, from a browser, as ?${TOKEN_QUERY_PARAMETER}=<token>`,
  unusableIdentity: 'Access token names a tenant or user that cannot receive live updates',
  tooManyConnections: (limit: number) =>
    `You already have ${limit} live connections (the limit); close one (another tab or device) and reconnect`,
  originNotAllowed: 'This origin may not open live connections; it must be listed in CORS_ORIGINS',
  unknownPath: `No WebSocket endpoint here; connect to ${WEBSOCKET_PATH}`,
  socketOpened: (connectionId: string) => `Opened live connection ${connectionId}`,
  socketClosed: (connectionId: string, code: number) => `Closed live connection ${connectionId} (code ${code})`,
  socketStale: (connectionId: string) => `Terminated live connection ${connectionId}: no pong since the last heartbeat`,
  upgradeFailed: (error: string) => `Live connection upgrade failed: ${error}`,
  eventTenantMismatch: (id: string, type: string) => `Refused event ${id} (${type}): its tenant does not match the message tenant`,
  eventWithoutRecipient: (id: string, type: string) => `Dropped event ${id} (${type}): it names no user to notify`,
  eventForeignActor: (id: string, type: string) =>
    `Refused event ${id} (${type}): its actor is missing or is another user than the one it notifies; only the user concerned or a service may cause it`,
  invalidChannelMessage: (channel: string) => `Ignored an unreadable message on Redis channel ${channel}`,
  liveUpdatesUnavailable: 'Live updates are temporarily unavailable; reconnect in a few seconds',
  redisUnavailable: (error: string) => `Refused a live connection: Redis failed (${error})`,
  leaseRenewFailed: (error: string) => `Could not renew live connection leases in Redis: ${error}`,
} as const;
