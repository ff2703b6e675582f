import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Envelope } from '@rallyforge/contracts';
import type { RealtimeMetrics } from '../metrics/realtime.metrics';
import type { UserChannelRepository } from '../repositories/user-channel.repository';
import { EventFanoutService, ForeignActorError, TenantMismatchError } from './event-fanout.service';

describe('EventFanoutService', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const owner = randomUUID();
  const event = (overrides: Partial<Envelope> = {}): Envelope => ({
    id: randomUUID(),
    type: 'claim.evidence_added',
    version: 1,
    tenantId: 'vso-north',
    occurredAt: '2026-01-01T00:00:00.000Z',
    actor: { kind: 'user', id: owner, roles: ['veteran'] },
    data: { claimId: randomUUID(), ownerId: owner, documentId: randomUUID(), filename: 'dd214.pdf', evidenceCount: 1 },
    ...overrides,
  });

  function setup() {
    const publish = jest.fn().mockResolvedValue(1);
    const channels = { publish } as unknown as UserChannelRepository;
    const metrics = { eventsForwarded: { inc: jest.fn() } } as unknown as RealtimeMetrics;
    return { publish, service: new EventFanoutService(channels, metrics) };
  }

  it("publishes the live event on the owner's channel in the message's tenant", async () => {
    const { publish, service } = setup();
    const e = event();
    await service.forward(e, 'vso-north');
    expect(publish).toHaveBeenCalledWith(`t:vso-north:user:${owner}`, JSON.stringify({ type: e.type, version: 1, id: e.id, occurredAt: e.occurredAt, data: e.data }));
  });

  it('refuses an event whose tenant differs from the delivery tenant, publishing nothing', async () => {
    const { publish, service } = setup();
    await expect(service.forward(event({ tenantId: 'vso-south' }), 'vso-north')).rejects.toBeInstanceOf(TenantMismatchError);
    await expect(service.forward(event({ tenantId: '_platform' }), '_platform')).rejects.toBeInstanceOf(TenantMismatchError);
    expect(publish).not.toHaveBeenCalled();
  });

  it.each([
    ['another user', { kind: 'user' as const, id: randomUUID(), roles: ['veteran'] }],
    ['no actor', undefined],
  ])('refuses (403, parked) an event caused by %s about the recipient, publishing nothing', async (_label, actor) => {
    const { publish, service } = setup();
    const refused = service.forward(event({ actor }), 'vso-north');
    await expect(refused).rejects.toBeInstanceOf(ForeignActorError);
    await expect(refused).rejects.toMatchObject({ status: 403 });
    expect(publish).not.toHaveBeenCalled();
  });

  it('forwards an event a service caused', async () => {
    const { publish, service } = setup();
    await service.forward(event({ actor: { kind: 'service', id: 'payments', roles: [] } }), 'vso-north');
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('drops an event that names no user', async () => {
    const { publish, service } = setup();
    await service.forward(event({ type: 'auth.user.registered' }), 'vso-north');
    expect(publish).not.toHaveBeenCalled();
  });
});
