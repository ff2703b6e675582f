import { disableTenantRowLevelSecurity, enableTenantRowLevelSecurity, outboxRowLevelSecuritySql } from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every tenant-owned table of the claims database. */
export const CLAIMS_TENANT_TABLES = ['claims', 'claim_evidence'] as const;

/**
 * Row-Level Security on the claims tables (docs/adr/0005-row-level-security.md). HTTP reads and writes bind the
 * caller's tenant (from the verified token) first; the `document.uploaded` handler binds the message's tenant
 * before it looks the claim up, so a document of one tenant can never reach another tenant's claim. The outbox
 * accepts only events of the transaction's tenant; the relay reads across tenants.
 */
export class ClaimsRowLevelSecurity1790000000000 implements MigrationInterface {
  readonly name = 'ClaimsRowLevelSecurity1790000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantRowLevelSecurity(queryRunner, CLAIMS_TENANT_TABLES);
    for (const statement of outboxRowLevelSecuritySql()) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantRowLevelSecurity(queryRunner, CLAIMS_TENANT_TABLES);
    await queryRunner.query('ALTER TABLE bus_outbox NO FORCE ROW LEVEL SECURITY');
    await queryRunner.query('ALTER TABLE bus_outbox DISABLE ROW LEVEL SECURITY');
  }
}
