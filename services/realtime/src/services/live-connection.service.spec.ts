import { Logger } from '@nestjs/common';
import { AppError, type AccessTokenVerifier, type AuthUser } from '@rallyforge/service-kit';
import type { RealtimeConfig } from '../config';
import type { RealtimeMetrics } from '../metrics/realtime.metrics';
import type { ConnectionLeaseRepository } from '../repositories/connection-lease.repository';
import type { UserChannelRepository } from '../repositories/user-channel.repository';
import { LiveConnectionService, type LiveSocket } from './live-connection.service';

const user: AuthUser = { userId: 'u-1', tenantId: 'vso-north', roles: ['veteran'] };

function setup(options: { verify?: () => Promise<AuthUser>; granted?: boolean; cors?: string[] } = {}) {
  const config = {
    REALTIME_HEARTBEAT_INTERVAL_MS: 1000,
    REALTIME_MAX_CONNECTIONS_PER_USER: 2,
    CORS_ORIGINS: options.cors ?? [],
  } as unknown as RealtimeConfig;
  const verifier = { verify: jest.fn(options.verify ?? (async () => user)) } as unknown as AccessTokenVerifier;
  const channels = {
    subscribe: jest.fn().mockResolvedValue(undefined),
    unsubscribe: jest.fn().mockResolvedValue(undefined),
    onMessage: jest.fn(),
    close: jest.fn().mockResolvedValue(undefined),
  };
  const leases = {
    acquire: jest.fn().mockResolvedValue(options.granted ?? true),
    renew: jest.fn().mockResolvedValue(undefined),
    release: jest.fn().mockResolvedValue(undefined),
  };
  const metrics = {
    connections: { set: jest.fn() },
    messagesSent: { inc: jest.fn() },
  } as unknown as RealtimeMetrics;
  const service = new LiveConnectionService(
    config,
    verifier,
    channels as unknown as UserChannelRepository,
    leases as unknown as ConnectionLeaseRepository,
    metrics,
  );
  return { service, channels, leases, verifier, metrics };
}

function socket(): LiveSocket & Record<keyof LiveSocket, jest.Mock> {
  return { send: jest.fn(), ping: jest.fn(), close: jest.fn(), terminate: jest.fn() };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('LiveConnectionService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('admit', () => {
    it('refuses a missing token with 401 before verifying anything', async () => {
      const { service, verifier } = setup();
      expect((await refusal(service.admit({ token: undefined, origin: undefined, host: undefined }))).status).toBe(401);
      expect(verifier.verify).not.toHaveBeenCalled();
    });

    it("passes the verifier's 401 through and takes no lease", async () => {
      const { service, leases } = setup({ verify: async () => Promise.reject(new AppError(401, 'UNAUTHENTICATED', 'Invalid access token')) });
      expect((await refusal(service.admit({ token: 'bad', origin: undefined, host: undefined }))).status).toBe(401);
      expect(leases.acquire).not.toHaveBeenCalled();
    });

    it('refuses platform identities (no user channel)', async () => {
      const { service } = setup({ verify: async () => ({ ...user, tenantId: '_platform' }) });
      expect((await refusal(service.admit({ token: 't', origin: undefined, host: undefined }))).status).toBe(403);
    });

    it('accepts same-origin and listed browser origins, refuses others with 403', async () => {
      const { service } = setup({ cors: ['https://app.rallyforge.org'] });
      await expect(service.admit({ token: 't', origin: 'https://api.rallyforge.org', host: 'api.rallyforge.org' })).resolves.toBeDefined();
      await expect(service.admit({ token: 't', origin: 'https://app.rallyforge.org', host: 'api.rallyforge.org' })).resolves.toBeDefined();
      const error = await refusal(service.admit({ token: 't', origin: 'https://evil.example', host: 'api.rallyforge.org' }));
      expect(error).toMatchObject({ status: 403, code: 'ORIGIN_NOT_ALLOWED' });
    });

    it('refuses with 429 TOO_MANY_CONNECTIONS when the lease is not granted, without subscribing', async () => {
      const { service, channels } = setup({ granted: false });
      expect(await refusal(service.admit({ token: 't', origin: undefined, host: undefined }))).toMatchObject({ status: 429, code: 'TOO_MANY_CONNECTIONS' });
      expect(channels.subscribe).not.toHaveBeenCalled();
    });

    it("takes a lease with the configured limit and TTL, and subscribes to the user's channel", async () => {
      const { service, leases, channels } = setup();
      const admission = await service.admit({ token: 't', origin: undefined, host: undefined });
      expect(admission.channel).toBe('t:vso-north:user:u-1');
      expect(leases.acquire).toHaveBeenCalledWith({ key: 't:vso-north:realtime:connections:u-1', connectionId: admission.connectionId }, 2, 3000);
      expect(channels.subscribe).toHaveBeenCalledWith('t:vso-north:user:u-1');
    });

    it('answers 503 and gives the lease back when Redis refuses the subscription', async () => {
      const { service, leases, channels } = setup();
      channels.subscribe.mockRejectedValueOnce(new Error('redis down'));
      expect((await refusal(service.admit({ token: 't', origin: undefined, host: undefined }))).status).toBe(503);
      expect(leases.release).toHaveBeenCalledTimes(1);
    });

    it('answers 503 when the lease cannot be taken', async () => {
      const { service, leases } = setup();
      leases.acquire.mockRejectedValueOnce(new Error('Connection is closed.'));
      expect((await refusal(service.admit({ token: 't', origin: undefined, host: undefined }))).status).toBe(503);
    });
  });

  describe('delivery and heartbeat', () => {
    it('delivers a channel message to that user only', async () => {
      const { service } = setup();
      const mine = socket();
      service.open(await service.admit({ token: 't', origin: undefined, host: undefined }), mine);
      const event = { type: 'claim.created', version: 1, id: 'e1', occurredAt: '2026-01-01T00:00:00.000Z', data: { a: 1 } };
      service.deliver('t:vso-north:user:u-1', JSON.stringify({ ...event, extra: 'dropped' }));
      service.deliver('t:vso-north:user:u-2', JSON.stringify(event));
      service.deliver('t:vso-south:user:u-1', JSON.stringify(event));
      service.deliver('t:vso-north:user:u-1', 'garbage');
      expect(mine.send.mock.calls).toEqual([[JSON.stringify(event)]]);
    });

    it('pings live sockets, terminates one that missed a pong, and renews live leases', async () => {
      const { service, leases } = setup();
      const quiet = socket();
      const chatty = socket();
      const a = await service.admit({ token: 't', origin: undefined, host: undefined });
      const b = await service.admit({ token: 't', origin: undefined, host: undefined });
      service.open(a, quiet);
      service.open(b, chatty);

      await service.tick();
      expect(quiet.ping).toHaveBeenCalledTimes(1);
      expect(chatty.ping).toHaveBeenCalledTimes(1);
      expect(leases.renew).toHaveBeenLastCalledWith([a.lease, b.lease], 3000);

      service.pong(b);
      await service.tick();
      expect(quiet.terminate).toHaveBeenCalledTimes(1);
      expect(chatty.terminate).not.toHaveBeenCalled();
      expect(leases.renew).toHaveBeenLastCalledWith([b.lease], 3000);
    });

    it('releases lease and subscription once when a socket closes', async () => {
      const { service, leases, channels } = setup();
      const admission = await service.admit({ token: 't', origin: undefined, host: undefined });
      service.open(admission, socket());
      expect(service.size).toBe(1);
      await service.closed(admission, 1000);
      await service.closed(admission, 1000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(service.size).toBe(0);
      expect(leases.release).toHaveBeenCalledTimes(1);
      expect(channels.unsubscribe).toHaveBeenCalledWith('t:vso-north:user:u-1');
    });

    it('closes every socket with 1001 on shutdown', async () => {
      const { service, channels } = setup();
      const open = socket();
      service.open(await service.admit({ token: 't', origin: undefined, host: undefined }), open);
      await service.onModuleDestroy();
      expect(open.close).toHaveBeenCalledWith(1001, 'server shutting down');
      expect(service.size).toBe(0);
      expect(channels.close).toHaveBeenCalled();
    });
  });
});
