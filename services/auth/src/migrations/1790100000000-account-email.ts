import { disableTenantRowLevelSecurity, enableTenantRowLevelSecurity } from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tenant-owned tables this migration creates (both isolated by Row-Level Security). */
export const ACCOUNT_EMAIL_TABLES = ['user_tokens', 'mail_deliveries'] as const;

/**
 * E-mail verification, password reset, invitations and mail delivery:
 * - `users.email_verified_at`: set by `POST /verify-email`, an accepted invitation or a completed reset.
 * - `user_tokens`: single-use e-mail verification and password reset tokens (SHA-256 only; the token itself is only
 *   ever in the e-mail). `used_at` makes them single use; children of their user, so a user's tokens go with them.
 * - `invitations`: who invited (`invited_by`, NULL for the operator), `revoked_at`, and the account it created.
 * - `mail_deliveries`: the outbox messages already handed to the SMTP server. The inbox already drops redelivered
 *   messages, but a batch rolled back after some of its e-mails went out would run them again; this table is written
 *   in a transaction of its own right after each send, so a re-run skips what was sent.
 */
export class AccountEmail1790100000000 implements MigrationInterface {
  name = 'AccountEmail1790100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE users ADD COLUMN email_verified_at timestamptz`);
    await queryRunner.query(`
      CREATE TABLE user_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL,
        user_id uuid NOT NULL,
        purpose varchar(32) NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
        token_hash char(64) NOT NULL CONSTRAINT user_tokens_hash_unique UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        CHECK (expires_at > created_at),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX user_tokens_user_idx ON user_tokens (tenant_id, user_id, purpose)`);
    await queryRunner.query(`CREATE INDEX user_tokens_expires_idx ON user_tokens (expires_at)`);
    await queryRunner.query(`
      ALTER TABLE invitations
        ADD COLUMN invited_by uuid,
        ADD COLUMN revoked_at timestamptz,
        ADD COLUMN accepted_user_id uuid`);
    await queryRunner.query(`CREATE INDEX invitations_pending_idx ON invitations (tenant_id, expires_at)
      WHERE accepted_at IS NULL AND revoked_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE mail_deliveries (
        message_id uuid PRIMARY KEY,
        tenant_id varchar(40) NOT NULL,
        template varchar(32) NOT NULL,
        sent_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX mail_deliveries_sent_idx ON mail_deliveries (sent_at)`);
    await enableTenantRowLevelSecurity(queryRunner, ACCOUNT_EMAIL_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantRowLevelSecurity(queryRunner, ACCOUNT_EMAIL_TABLES);
    await queryRunner.query(`DROP TABLE IF EXISTS mail_deliveries`);
    await queryRunner.query(`DROP INDEX IF EXISTS invitations_pending_idx`);
    await queryRunner.query(`
      ALTER TABLE invitations DROP COLUMN IF EXISTS invited_by, DROP COLUMN IF EXISTS revoked_at,
        DROP COLUMN IF EXISTS accepted_user_id`);
    await queryRunner.query(`DROP TABLE IF EXISTS user_tokens`);
    await queryRunner.query(`ALTER TABLE users DROP COLUMN IF EXISTS email_verified_at`);
  }
}
