import type { Envelope, MessageContract, Payload } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import { BusConfigurationError } from '../bus.errors';
import { BusMessages } from '../bus.messages';
import { createEnvelope, type SendOptions } from '../message-envelope';
import { injectTraceHeaders } from '../trace-context';
import { markOutboxWritten } from './outbox-commit-hook';
import { OutboxRepository } from './outbox.repository';

/** One event for `publishAll`. */
export interface OutboxMessage<C extends MessageContract = MessageContract> {
  readonly contract: C;
  readonly payload: Payload<C>;
  readonly options: SendOptions;
}

/**
 * Writes events into `bus_outbox` inside the caller's transaction: the event exists if and only if the change
 * it describes committed. The `OutboxRelay` publishes it after commit. The active trace context is captured now
 * (not at relay time), so consumers join the trace of the request that caused the event.
 */
export class OutboxPublisher {
  /** Validates `payload` against `contract`, inserts the row and returns the envelope (its `id` is the message id). */
  async publish<C extends MessageContract>(manager: EntityManager, contract: C, payload: Payload<C>, options: SendOptions): Promise<Envelope<Payload<C>>> {
    const [envelope] = await this.publishAll(manager, [{ contract, payload, options }]);
    return envelope as Envelope<Payload<C>>;
  }

  /** Several events in one INSERT (same transaction rules as `publish`). */
  async publishAll(manager: EntityManager, messages: ReadonlyArray<OutboxMessage>): Promise<Envelope[]> {
    if (!manager.queryRunner?.isTransactionActive) throw new BusConfigurationError(BusMessages.outboxOutsideTransaction);
    const headers = injectTraceHeaders();
    const envelopes = messages.map((m) => createEnvelope(m.contract, m.payload, m.options));
    await OutboxRepository.insert(manager, envelopes.map((envelope) => ({ envelope, headers })));
    markOutboxWritten(manager);
    return envelopes;
  }
}
