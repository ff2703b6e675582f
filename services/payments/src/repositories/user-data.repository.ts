import { Injectable } from '@nestjs/common';
import { purgeTenantRows } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';

/** A payment as it appears in a GDPR export. */
export interface ExportedPayment {
  id: string;
  planId: string;
  amountCents: number;
  currency: string;
  status: string;
  provider: string;
  providerRef: string | null;
  periodEnd: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Whole-user and whole-tenant reads and writes (GDPR export and erasure, organisation purge), in the bus handler's
 * transaction bound to the message's tenant; every statement names the tenant as well.
 */
@Injectable()
export class PaymentsUserDataRepository {
  async exportUser(manager: EntityManager, tenantId: string, userId: string): Promise<ExportedPayment[]> {
    await bindTenant(manager, tenantId);
    return manager.query(
      `SELECT id, plan_id AS "planId", amount_cents AS "amountCents", currency, status, provider,
              provider_ref AS "providerRef", period_end AS "periodEnd", created_at AS "createdAt", updated_at AS "updatedAt"
       FROM payments WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`,
      [tenantId, userId],
    );
  }

  /**
   * Erasure with the accounting exception (docs/gdpr.md): payments that never completed are deleted; succeeded
   * payments are records the law makes us keep, so they stay with amount, currency, plan, dates and the provider's
   * reference, but are cut loose from the person: the user id becomes a fresh random id (no link between two of
   * them either), and the idempotency key and checkout URL (which could carry client data) are cleared.
   */
  async eraseUser(manager: EntityManager, tenantId: string, userId: string): Promise<{ deleted: number; anonymised: number }> {
    await bindTenant(manager, tenantId);
    const [, deleted] = (await manager.query(
      `DELETE FROM payments WHERE tenant_id = $1 AND user_id = $2 AND status <> 'succeeded'`,
      [tenantId, userId],
    )) as [unknown[], number];
    const [, anonymised] = (await manager.query(
      `UPDATE payments SET user_id = gen_random_uuid(), idempotency_key = NULL, checkout_url = NULL, updated_at = now()
       WHERE tenant_id = $1 AND user_id = $2`,
      [tenantId, userId],
    )) as [unknown[], number];
    return { deleted, anonymised };
  }

  async purgeTenant(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    await bindTenant(manager, tenantId);
    return purgeTenantRows(manager, tenantId);
  }
}

async function bindTenant(manager: EntityManager, tenantId: string): Promise<void> {
  await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
}
