import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { SubscriptionEntity } from '../entities/subscription.entity';

export interface SubscriptionPayment {
  tenantId: string;
  userId: string;
  planId: string;
  paymentId: string;
  periodEnd: Date;
}

@Injectable()
export class SubscriptionRepository {
  findByUser(manager: EntityManager, tenantId: string, userId: string): Promise<SubscriptionEntity | null> {
    return manager.findOne(SubscriptionEntity, { where: { tenantId, userId } });
  }

  /**
   * Records a payment. Events can arrive out of order, so a payment whose period ends before the recorded one changes
   * nothing; the tenant is part of the conflict guard so a row can never move to another tenant.
   */
  async recordPayment(manager: EntityManager, payment: SubscriptionPayment): Promise<void> {
    await manager.query(
      `INSERT INTO subscriptions (user_id, tenant_id, plan_id, current_period_end, last_payment_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id) DO UPDATE
         SET plan_id = EXCLUDED.plan_id,
             current_period_end = EXCLUDED.current_period_end,
             last_payment_id = EXCLUDED.last_payment_id,
             updated_at = now()
         WHERE subscriptions.tenant_id = EXCLUDED.tenant_id
           AND subscriptions.current_period_end <= EXCLUDED.current_period_end`,
      [payment.userId, payment.tenantId, payment.planId, payment.periodEnd, payment.paymentId],
    );
  }
}
