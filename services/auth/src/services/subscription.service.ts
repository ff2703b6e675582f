import { Injectable, Logger } from '@nestjs/common';
import { PLATFORM_TENANT, type Events, type Payload } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import { SubscriptionRepository } from '../repositories/subscription.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserRepository } from '../repositories/user.repository';
import type { BusCaller } from './organisation.service';

export type PaymentSucceededEvent = Payload<typeof Events.paymentSucceeded>;

export const SubscriptionMessages = {
  recorded: 'Recorded a subscription payment',
  refused: 'Refused payment.succeeded: the user does not belong to the message tenant',
} as const;

/**
 * A payment event that can never apply (wrong tenant, unknown user). Thrown so the bus does not acknowledge it
 * silently: after its retries it is parked with this message, where an operator can see it.
 */
export class PaymentTenantMismatchError extends Error {
  override readonly name = 'PaymentTenantMismatchError';
  constructor(tenantId: string) {
    super(`payment.succeeded for tenant "${tenantId}" names a user who is not a member of that organisation`);
  }
}

@Injectable()
export class SubscriptionService {
  private readonly logger = new Logger(SubscriptionService.name);

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly users: UserRepository,
    private readonly subscriptions: SubscriptionRepository,
  ) {}

  /** `payment.succeeded`: the paying user must belong to the message's tenant, or nothing is written. */
  async recordPayment(manager: EntityManager, caller: BusCaller, event: PaymentSucceededEvent): Promise<void> {
    const { tenantId } = caller;
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
