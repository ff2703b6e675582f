import { Injectable } from '@nestjs/common';
import { OutboxPublisher } from '@rallyforge/bus';
import type { MessageContract, Payload } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';

export interface EventOptions {
  tenantId: string;
  actor?: { kind: 'user' | 'service'; id: string; roles: string[] };
}

/** Events that belong to a database change go through the outbox, in the same transaction as the change. */
@Injectable()
export class EventRepository {
  constructor(private readonly outbox: OutboxPublisher) {}

  async publish<C extends MessageContract>(
    manager: EntityManager,
    contract: C,
    payload: Payload<C>,
    options: EventOptions,
  ): Promise<void> {
    await this.outbox.publish(manager, contract, payload, options);
  }
}
