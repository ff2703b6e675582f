import { disableTenantRowLevelSecurity, enableTenantRowLevelSecurity } from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The function behind the append-only triggers (also named in the error a refused statement gets). */
export const AUDIT_APPEND_ONLY_FUNCTION = 'audit_events_append_only';

/**
 * The audit log (docs/security.md, "Audit, logs and GDPR") and the organisations' application limits.
 *
 * `audit_events` is append-only at two levels: the runtime role keeps only SELECT and INSERT (UPDATE, DELETE and
 * TRUNCATE are revoked from every role but the owner), and triggers refuse UPDATE, DELETE and TRUNCATE for
 * everyone, the owner included, so history can only be rewritten by someone who first drops the triggers
 * (a DDL change that shows in the schema, not a quiet edit). Rows carry `tenant_id` under Row-Level Security.
 * Entries outlive their organisation: the tenant purge leaves this table alone (TENANT_PURGE_EXCLUDED_TABLES).
 * `message_id` makes storing an `audit.recorded` message idempotent on top of the inbox.
 */
export class AuthAuditLog1790300000000 implements MigrationInterface {
  name = 'AuthAuditLog1790300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL,
        occurred_at timestamptz(3) NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        source varchar(40) NOT NULL,
        message_id uuid CONSTRAINT audit_events_message_unique UNIQUE,
        actor_kind varchar(16) NOT NULL CHECK (actor_kind IN ('user', 'service')),
        actor_id varchar(100) NOT NULL,
        action varchar(80) NOT NULL,
        target_type varchar(40),
        target_id varchar(100),
        result varchar(16) NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
        ip varchar(64),
        user_agent varchar(300),
        request_id varchar(128),
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await queryRunner.query(`CREATE INDEX audit_events_tenant_time_idx ON audit_events (tenant_id, occurred_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX audit_events_tenant_actor_idx ON audit_events (tenant_id, actor_id, occurred_at DESC)`);
    await queryRunner.query(`CREATE INDEX audit_events_tenant_action_idx ON audit_events (tenant_id, action, occurred_at DESC)`);
    await enableTenantRowLevelSecurity(queryRunner, 'audit_events');

    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION ${AUDIT_APPEND_ONLY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $fn$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_APPEND_ONLY_FUNCTION}()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_APPEND_ONLY_FUNCTION}()`);
    // Every role the owner's default privileges granted UPDATE/DELETE to (the runtime role) keeps SELECT, INSERT.
    await queryRunner.query(`REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC`);
    await queryRunner.query(`
      DO $do$
      DECLARE grantee_name text;
      BEGIN
        FOR grantee_name IN
          SELECT DISTINCT grantee FROM information_schema.role_table_grants
          WHERE table_schema = current_schema() AND table_name = 'audit_events'
            AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND grantee <> current_user AND grantee <> 'PUBLIC'
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM %I', grantee_name);
        END LOOP;
      END
      $do$`);
    await queryRunner.query(`COMMENT ON TABLE audit_events IS 'append-only: the runtime role may only INSERT and SELECT'`);

    // The tenant's limits from its spec.quota (auth.organisation.upsert); NULL = no limit.
    await queryRunner.query(`
      ALTER TABLE organisations
        ADD COLUMN api_requests_per_minute integer CHECK (api_requests_per_minute > 0),
        ADD COLUMN max_users integer CHECK (max_users >= 0),
        ADD COLUMN document_storage_bytes bigint CHECK (document_storage_bytes >= 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE organisations DROP COLUMN api_requests_per_minute, DROP COLUMN max_users, DROP COLUMN document_storage_bytes`,
    );
    await disableTenantRowLevelSecurity(queryRunner, 'audit_events');
    await queryRunner.query(`DROP TABLE IF EXISTS audit_events`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS ${AUDIT_APPEND_ONLY_FUNCTION}()`);
  }
}
