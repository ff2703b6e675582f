import {
  disableTenantRowLevelSecurity,
  enableTenantRowLevelSecurity,
  outboxRowLevelSecuritySql,
} from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Auth's tenant-owned tables keyed by `tenant_id`. */
export const AUTH_TENANT_TABLES = ['users', 'refresh_tokens', 'invitations', 'subscriptions'] as const;

/**
 * Row-Level Security on every tenant-owned table of auth (docs/adr/0005-row-level-security.md).
 *
 * - `organisations` is the tenant itself: its policy keys on `id`, so a transaction bound to a tenant sees and
 *   writes only its own organisation. The operator's upsert binds the tenant before it inserts; registration and
 *   login name the organisation in the request, so they bind it before the first lookup too.
 * - `signing_keys` is platform-level (one key set signs every tenant's tokens) and stays outside RLS: it holds no
 *   tenant data, and the JWKS is public anyway; the private halves are encrypted with AUTH_KEY_ENCRYPTION_KEY.
 * - `bus_outbox`: a tenant's transaction may only write that tenant's events; the relay reads across tenants.
 *   `bus_inbox` holds message ids only and stays outside RLS.
 * - Refresh tokens carry their tenant (`<tenant>.<secret>`), so refresh and logout bind it before the lookup.
 */
export class AuthRowLevelSecurity1790000000000 implements MigrationInterface {
  name = 'AuthRowLevelSecurity1790000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await enableTenantRowLevelSecurity(queryRunner, 'organisations', { column: 'id' });
    await enableTenantRowLevelSecurity(queryRunner, AUTH_TENANT_TABLES);
    for (const statement of outboxRowLevelSecuritySql()) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantRowLevelSecurity(queryRunner, ['organisations', ...AUTH_TENANT_TABLES]);
    await queryRunner.query('ALTER TABLE bus_outbox NO FORCE ROW LEVEL SECURITY');
    await queryRunner.query('ALTER TABLE bus_outbox DISABLE ROW LEVEL SECURITY');
  }
}
