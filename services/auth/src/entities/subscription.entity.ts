import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A user's subscription as last reported by payments (`payment.succeeded`). Active while the period lasts. */
@Entity({ name: 'subscriptions' })
export class SubscriptionEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId!: string;

  @Column({ name: 'plan_id', type: 'varchar', length: 100 })
  planId!: string;

  @Column({ name: 'current_period_end', type: 'timestamptz' })
  currentPeriodEnd!: Date;

  @Column({ name: 'last_payment_id', type: 'uuid' })
  lastPaymentId!: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
