import { Injectable, Logger } from '@nestjs/common';
import type { Actor, Envelope } from '@rallyforge/contracts';
import { AppError, ErrorCode } from '@rallyforge/service-kit';
import { RealtimeMetrics } from '../metrics/realtime.metrics';
import { RealtimeMessages, userChannel } from '../realtime.constants';
import { UserChannelRepository } from '../repositories/user-channel.repository';
import { isDeliverableTenant, recipientOf, toLiveEvent } from './live-event';

/**
 * Thrown for an event whose tenant does not match the tenant of the message that carried it. A refusal (403): the bus
 * parks it at once for someone to look at; retrying cannot fix it.
 */
export class TenantMismatchError extends AppError {
  constructor(message: string) {
    super(403, ErrorCode.FORBIDDEN, message);
  }
}

/** Thrown for an event a user caused about someone else, or that names no actor: a forgery, parked at once. */
export class ForeignActorError extends AppError {
  constructor(message: string) {
    super(403, ErrorCode.FORBIDDEN, message);
  }
}

/**
 * Whether `actor` may cause a live event for `recipient`. Every forwarded event is the recipient's own doing (they
 * filed the claim, uploaded the evidence, paid) and its producer names them as the actor; services speak for
 * themselves. A user actor naming someone else would let any user push made-up events to another user's screen.
 */
export function mayNotify(actor: Actor | undefined, recipient: string): boolean {
  if (!actor) return false;
  return actor.kind === 'service' || actor.id === recipient;
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
   * from it, never from the payload, so an event can only ever reach users of its own tenant; and a user actor can
   * only reach their own channel (`mayNotify`).
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
    if (!mayNotify(envelope.actor, userId)) {
      throw new ForeignActorError(RealtimeMessages.eventForeignActor(envelope.id, envelope.type));
    }
    await this.channels.publish(userChannel(messageTenantId, userId), JSON.stringify(toLiveEvent(envelope)));
    this.metrics.eventsForwarded.inc({ type: envelope.type });
  }
}
