import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Envelope } from '@rallyforge/contracts';
import type { RealtimeMetrics } from '../metrics/realtime.metrics';
import type { UserChannelRepository } from '../repositories/user-channel.repository';
import { EventFanoutService, TenantMismatchError } from './event-fanout.service';

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

  it('drops an event that names no user', async () => {
    const { publish, service } = setup();
    await service.forward(event({ type: 'auth.user.registered' }), 'vso-north');
    expect(publish).not.toHaveBeenCalled();
  });
});
