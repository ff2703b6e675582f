import { disableTenantRowLevelSecurity, enableTenantRowLevelSecurity, outboxRowLevelSecuritySql } from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every tenant-owned table of the documents database. */
export const DOCUMENTS_TENANT_TABLES = ['documents'] as const;

/**
 * Row-Level Security on document metadata (docs/adr/0005-row-level-security.md). Uploads and reads bind the
 * caller's tenant (from the verified token) first. The outbox accepts only events of the transaction's tenant;
 * the relay reads across tenants.
 */
export class DocumentsRowLevelSecurity1790000000000 implements MigrationInterface {
  readonly name = 'DocumentsRowLevelSecurity1790000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantRowLevelSecurity(queryRunner, DOCUMENTS_TENANT_TABLES);
    for (const statement of outboxRowLevelSecuritySql()) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantRowLevelSecurity(queryRunner, DOCUMENTS_TENANT_TABLES);
    await queryRunner.query('ALTER TABLE bus_outbox NO FORCE ROW LEVEL SECURITY');
    await queryRunner.query('ALTER TABLE bus_outbox DISABLE ROW LEVEL SECURITY');
  }
}
