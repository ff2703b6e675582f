import { Injectable, Logger } from '@nestjs/common';
import type { Envelope } from '@rallyforge/contracts';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import { RealtimeMessages, userChannel } from '../realtime.constants';
import { UserChannelRepository } from '../repositories/user-channel.repository';
import { isDeliverableTenant, recipientOf, toLiveEvent } from './live-event';

/** Thrown for an event whose tenant does not match the tenant of the message that carried it. */
export class TenantMismatchError extends Error {
  override readonly name = 'TenantMismatchError';
}

/**
 * Takes a bus event and publishes it to the Redis channel of the user it concerns, in the message's tenant. The
 * instance that holds the user's sockets (maybe another one) delivers it.
 */
@Injectable()
export class EventFanoutService {
  private readonly logger = new Logger(EventFanoutService.name);

  constructor(
    private readonly channels: UserChannelRepository,
    private readonly metrics: RealtimeMetrics,
  ) {}

  /**
   * `messageTenantId` is the tenant the bus verified for this delivery (header = envelope). The channel is built
   * from it, never from the payload, so an event can only ever reach users of its own tenant.
   */
  async forward(envelope: Envelope, messageTenantId: string): Promise<void> {
    if (envelope.tenantId !== messageTenantId || !isDeliverableTenant(messageTenantId)) {
      // Retrying cannot fix this: refuse loudly so the bus parks it for someone to look at.
      throw new TenantMismatchError(RealtimeMessages.eventTenantMismatch(envelope.id, envelope.type));
    }
    const userId = recipientOf(envelope);
    if (!userId) {
      this.logger.warn(RealtimeMessages.eventWithoutRecipient(envelope.id, envelope.type));
      return;
    }
    await this.channels.publish(userChannel(messageTenantId, userId), JSON.stringify(toLiveEvent(envelope)));
    this.metrics.eventsForwarded.inc({ type: envelope.type });
  }
}
