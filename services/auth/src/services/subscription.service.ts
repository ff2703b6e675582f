import { Injectable, Logger } from '@nestjs/common';
import { PLATFORM_TENANT, rolesHavePermission, type Actor, type Events, type Payload } from '@rallyforge/contracts';
import { AppError, ErrorCode } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { SubscriptionRepository } from '../repositories/subscription.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserRepository } from '../repositories/user.repository';
import type { BusCaller } from './organisation.service';

export type PaymentSucceededEvent = Payload<typeof Events.paymentSucceeded>;

export const SubscriptionMessages = {
  recorded: 'Recorded a subscription payment',
  refused: 'Refused payment.succeeded: the user does not belong to the message tenant',
  refusedActor: 'Refused payment.succeeded: its actor is neither the payments service nor the paying user',
} as const;

/** The service whose word on a payment counts (a provider webhook will report payments as this actor). */
export const PAYMENTS_SERVICE_ACTOR_ID = 'payments';

/**
 * A payment event that can never apply (wrong tenant, unknown user). A refusal (403): the bus parks it at once,
 * with this message, where an operator can see it; retrying cannot make it valid.
 */
export class PaymentTenantMismatchError extends AppError {
  constructor(tenantId: string) {
    super(403, ErrorCode.FORBIDDEN, `payment.succeeded for tenant "${tenantId}" names a user who is not a member of that organisation`);
  }
}

/** A payment event from someone who may not report it: a forged subscription. Parked at once, like any refusal. */
export class PaymentActorRefusedError extends AppError {
  constructor(actor: Actor | undefined) {
    super(
      403,
      ErrorCode.FORBIDDEN,
      `payment.succeeded from ${actor ? `${actor.kind} ${actor.id}` : 'no actor'} is refused: only the payments service, or the paying ` +
        'user holding payments:create (as payments publishes a checkout), may report a payment',
    );
  }
}

/**
 * Who may tell auth that a user paid: the payments service, or the paying user themself with the permission to pay
 * (payments publishes a checkout with the user who checked out as the actor). Anyone else would be handing out
 * subscriptions.
 */
export function mayReportPayment(actor: Actor | undefined, payingUserId: string): boolean {
  if (actor?.kind === 'service') return actor.id === PAYMENTS_SERVICE_ACTOR_ID;
  return actor?.kind === 'user' && actor.id === payingUserId && rolesHavePermission(actor.roles, 'payments:create');
}

@Injectable()
export class SubscriptionService {
  private readonly logger = new Logger(SubscriptionService.name);

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly users: UserRepository,
    private readonly subscriptions: SubscriptionRepository,
  ) {}

  /**
   * `payment.succeeded`: reported by someone who may (`mayReportPayment`), for a user of the message's tenant, or
   * nothing is written.
   */
  async recordPayment(manager: EntityManager, caller: BusCaller, event: PaymentSucceededEvent): Promise<void> {
    const { tenantId } = caller;
    if (!mayReportPayment(caller.actor, event.userId)) {
      this.logger.warn({ msg: SubscriptionMessages.refusedActor, tenantId, paymentId: event.paymentId, actorKind: caller.actor?.kind });
      throw new PaymentActorRefusedError(caller.actor);
    }
    if (tenantId === PLATFORM_TENANT) throw new PaymentTenantMismatchError(tenantId);
    await this.transactions.scopeToTenant(manager, tenantId);
    const user = await this.users.findById(manager, tenantId, event.userId);
    if (!user) {
      this.logger.warn({ msg: SubscriptionMessages.refused, tenantId, paymentId: event.paymentId });
      throw new PaymentTenantMismatchError(tenantId);
    }
    await this.subscriptions.recordPayment(manager, {
      tenantId,
      userId: user.id,
      planId: event.planId,
      paymentId: event.paymentId,
      periodEnd: new Date(event.periodEnd),
    });
    this.logger.log({ msg: SubscriptionMessages.recorded, tenantId, userId: user.id, paymentId: event.paymentId });
  }
}
