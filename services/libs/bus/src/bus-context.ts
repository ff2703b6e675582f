import { BaseRpcContext } from '@nestjs/microservices';
import type { Actor, Envelope, MessageContract } from '@rallyforge/contracts';
import type { Context } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import type { EntityManager } from 'typeorm';
import { BusConfigurationError } from './bus.errors';
import { BusMessages } from './bus.messages';

/** What the server knows about a delivery when it calls a handler. */
export interface BusDelivery {
  readonly envelope: Envelope;
  readonly contract: MessageContract;
  /** Delivery attempt, 1 for the first. */
  readonly attempt: number;
  /** The raw AMQP message (properties, headers, routing key). */
  readonly message: ConsumeMessage;
  /** The handler pattern that matched (`claim.*`). */
  readonly pattern: string;
  /** The producer's trace context (also the active context while the handler runs). */
  readonly traceContext: Context;
  /** The handler's transaction when the server has a DataSource. */
  readonly manager?: EntityManager;
}

/**
 * The context handed to bus handlers via `@Ctx()`. Tenant and actor come from the validated envelope; when the
 * server has a DataSource, `manager` is the transaction the inbox row was written in, so a handler can write
 * its data and outbox rows atomically with "message handled".
 */
export class BusContext extends BaseRpcContext<[BusDelivery]> {
  /** Set by `BusExceptionFilter`: the handler's original error (Nest's default filter only keeps a generic message). */
  handlerError?: unknown;

  constructor(delivery: BusDelivery) {
    super([delivery]);
  }

  get delivery(): BusDelivery {
    return this.args[0];
  }

  get envelope(): Envelope {
    return this.args[0].envelope;
  }

  get tenantId(): string {
    return this.args[0].envelope.tenantId;
  }

  get actor(): Actor | undefined {
    return this.args[0].envelope.actor;
  }

  get messageId(): string {
    return this.args[0].envelope.id;
  }

  get attempt(): number {
    return this.args[0].attempt;
  }

  get message(): ConsumeMessage {
    return this.args[0].message;
  }

  get pattern(): string {
    return this.args[0].pattern;
  }

  get traceContext(): Context {
    return this.args[0].traceContext;
  }

  /** True when the server runs handlers in transactions (it was given a DataSource). */
  get transactional(): boolean {
    return this.args[0].manager !== undefined;
  }

  /** The handler's transaction. Throws an actionable error when the server has no DataSource. */
  get manager(): EntityManager {
    const manager = this.args[0].manager;
    if (!manager) throw new BusConfigurationError(BusMessages.managerWithoutDataSource);
    return manager;
  }
}
