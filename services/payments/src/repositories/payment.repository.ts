import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Events, type Actor, type Payload } from '@rallyforge/contracts';
import { OutboxPublisher } from '@rallyforge/bus';
import { bindTenant } from '@rallyforge/service-kit';
import { DataSource, EntityManager } from 'typeorm';
import { PaymentEntity } from '../entities/payment.entity';
import { Plan } from '../entities/plan';
import { PAYMENT_TENANT_LOOKUP } from '../migrations/1790000000000-row-level-security';
import { PaymentProviderName } from '../providers/payment-provider';

export interface CreatePendingPayment {
  tenantId: string;
  userId: string;
  plan: Plan;
  provider: PaymentProviderName;
  idempotencyKey: string | null;
}

export interface MarkSucceeded {
  providerRef: string;
  periodEnd: Date;
  /** The `payment.succeeded` payload, written to the outbox in the same transaction as the status change. */
  event: Payload<typeof Events.paymentSucceeded>;
  actor: Actor;
}

/**
 * The only code that reads or writes `payments`. Every method takes the tenant from the verified token and runs
 * in `inTenant`, one transaction that also sets `app.tenant_id`, which the Row-Level Security policies read
 * (docs/adr/0005-row-level-security.md).
 */
@Injectable()
export class PaymentRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxPublisher,
  ) {}

  /**
   * Inserts a pending payment; with an idempotency key that this user already used, returns the existing payment
   * instead (`created: false`). Concurrent requests with the same key race on the unique index, not in the code.
   */
  async createPending(input: CreatePendingPayment): Promise<{ payment: PaymentEntity; created: boolean }> {
    return this.inTenant(input.tenantId, async (manager) => {
      const id = randomUUID();
      const inserted: unknown[] = await manager.query(
        `INSERT INTO payments (id, tenant_id, user_id, plan_id, amount_cents, currency, status, provider, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)
         ON CONFLICT (tenant_id, user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id`,
        [id, input.tenantId, input.userId, input.plan.id, input.plan.amountCents, input.plan.currency, input.provider, input.idempotencyKey],
      );
      const repo = manager.getRepository(PaymentEntity);
      if (inserted.length === 1) {
        return { payment: await repo.findOneByOrFail({ id, tenantId: input.tenantId }), created: true };
      }
      // The key was used before by this user. The conflicting row is committed (or we would have waited on it).
      const existing = await repo.findOneByOrFail({
        tenantId: input.tenantId,
        userId: input.userId,
        idempotencyKey: input.idempotencyKey as string,
      });
      return { payment: existing, created: false };
    });
  }

  /** A payment of the tenant; with `userId`, only if it is that user's. */
  async findById(tenantId: string, id: string, userId?: string): Promise<PaymentEntity | null> {
    return this.inTenant(tenantId, (manager) =>
      manager.getRepository(PaymentEntity).findOneBy({ tenantId, id, ...(userId ? { userId } : {}) }),
    );
  }

  /** Newest first; with `userId`, only that user's payments. */
  async list(tenantId: string, options: { userId?: string; limit: number; offset: number }): Promise<PaymentEntity[]> {
    return this.inTenant(tenantId, (manager) =>
      manager.getRepository(PaymentEntity).find({
        where: { tenantId, ...(options.userId ? { userId: options.userId } : {}) },
        order: { createdAt: 'DESC', id: 'DESC' },
        take: options.limit,
        skip: options.offset,
      }),
    );
  }

  /**
   * pending → succeeded, and the `payment.succeeded` event into the outbox, in one transaction: either both
   * happen or neither. A payment that is no longer pending is left alone and emits nothing (no double event).
   */
  async markSucceeded(tenantId: string, id: string, change: MarkSucceeded): Promise<PaymentEntity> {
    return this.inTenant(tenantId, async (manager) => {
      const updated = await this.transition(manager, tenantId, id, 'succeeded', {
        provider_ref: change.providerRef,
        period_end: change.periodEnd,
      });
      if (updated) {
        await this.outbox.publish(manager, Events.paymentSucceeded, change.event, { tenantId, actor: change.actor });
      }
      return manager.getRepository(PaymentEntity).findOneByOrFail({ tenantId, id });
    });
  }

  /** Records where a pending checkout continues (the provider's hosted page). */
  async markCheckoutStarted(tenantId: string, id: string, change: { providerRef: string; checkoutUrl: string | null }): Promise<PaymentEntity> {
    return this.inTenant(tenantId, async (manager) => {
      await manager.query(
        `UPDATE payments SET provider_ref = $3, checkout_url = $4, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
        [tenantId, id, change.providerRef, change.checkoutUrl],
      );
      return manager.getRepository(PaymentEntity).findOneByOrFail({ tenantId, id });
    });
  }

  async markFailed(tenantId: string, id: string): Promise<void> {
    await this.inTenant(tenantId, (manager) => this.transition(manager, tenantId, id, 'failed', {}));
  }

  /**
   * The tenant of the payment a provider knows as `providerRef`, for webhooks, which name only the provider's
   * reference. The one lookup that precedes knowing the tenant: it goes through a SECURITY DEFINER function that
   * returns the tenant id only (see the migration); everything after it binds that tenant and runs under RLS.
   */
  async findTenantByProviderRef(provider: PaymentProviderName, providerRef: string): Promise<string | undefined> {
    const rows: Array<{ tenant_id: string | null }> = await this.dataSource.query(
      `SELECT ${PAYMENT_TENANT_LOOKUP}($1, $2) AS tenant_id`,
      [provider, providerRef],
    );
    return rows[0]?.tenant_id ?? undefined;
  }

  /** Moves a pending payment to `status`; false when it was not pending any more. */
  private async transition(
    manager: EntityManager,
    tenantId: string,
    id: string,
    status: 'succeeded' | 'failed',
    columns: { provider_ref?: string; period_end?: Date },
  ): Promise<boolean> {
    const names = Object.keys(columns);
    const sets = names.map((name, i) => `${name} = $${i + 4}`);
    const result: [unknown[], number] = await manager.query(
      `UPDATE payments SET status = $3, ${[...sets, 'updated_at = now()'].join(', ')}
       WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
       RETURNING id`,
      [tenantId, id, status, ...names.map((name) => columns[name as keyof typeof columns])],
    );
    return result[1] === 1;
  }

  /** One transaction scoped to `tenantId` (`SET LOCAL app.tenant_id`, read by the RLS policies). */
  private inTenant<T>(tenantId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await bindTenant(manager, tenantId);
      return work(manager);
    });
  }
}
