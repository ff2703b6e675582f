import {
  disableTenantRowLevelSecurity,
  enableTenantRowLevelSecurity,
  outboxRowLevelSecuritySql,
  securityDefinerFunctionSql,
} from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every tenant-owned table of the payments database. */
export const PAYMENTS_TENANT_TABLES = ['payments'] as const;

/**
 * Finds the tenant of a payment from the provider's reference alone. SECURITY DEFINER (runs as the owner, which
 * bypasses RLS) because a provider webhook names only its own reference: the tenant is not known before this
 * lookup. It returns the tenant id and nothing else; the webhook handler then binds that tenant and reads and
 * changes the payment under the policies like every other path.
 */
export const PAYMENT_TENANT_LOOKUP = 'payments_tenant_of_provider_ref';

/**
 * Row-Level Security on payments (docs/adr/0005-row-level-security.md). Checkout, listing and completion bind
 * the caller's tenant (from the verified token) first. The outbox accepts only events of the transaction's tenant;
 * the relay reads across tenants.
 */
export class PaymentsRowLevelSecurity1790000000000 implements MigrationInterface {
  readonly name = 'PaymentsRowLevelSecurity1790000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantRowLevelSecurity(queryRunner, PAYMENTS_TENANT_TABLES);
    for (const statement of outboxRowLevelSecuritySql()) await queryRunner.query(statement);
    for (const statement of securityDefinerFunctionSql({
      name: PAYMENT_TENANT_LOOKUP,
      args: 'p_provider text, p_provider_ref text',
      argTypes: 'text, text',
      returns: 'text',
      body: 'SELECT tenant_id FROM public.payments WHERE provider = p_provider AND provider_ref = p_provider_ref',
    })) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION IF EXISTS public.${PAYMENT_TENANT_LOOKUP}(text, text)`);
    await disableTenantRowLevelSecurity(queryRunner, PAYMENTS_TENANT_TABLES);
    await queryRunner.query('ALTER TABLE bus_outbox NO FORCE ROW LEVEL SECURITY');
    await queryRunner.query('ALTER TABLE bus_outbox DISABLE ROW LEVEL SECURITY');
  }
}
