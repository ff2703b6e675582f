import { disableTenantRowLevelSecurity, enableTenantRowLevelSecurity } from '@rallyforge/service-kit';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The tenant-owned tables this migration creates (all isolated by Row-Level Security on `tenant_id`). */
export const ACCOUNT_SECURITY_TABLES = ['user_mfa', 'mfa_recovery_codes', 'sessions', 'login_history'] as const;

/**
 * Two-factor authentication, sessions and login history. Like every child of `users`, each row points at its user
 * through (tenant_id, user_id), so the database refuses a row whose tenant differs from its user's, and deleting a
 * user removes them.
 *
 * - `user_mfa`: one TOTP authenticator per user, secret sealed with AES-256-GCM (see utils/key-encryption.ts).
 * - `mfa_recovery_codes`: SHA-256 of single-use codes.
 * - `sessions`: one row per refresh-token family (its id is the family id). Families issued before this migration
 *   get a row from their tokens (no IP or user agent was recorded then).
 * - `login_history`: append-only; read newest first per user, so indexed on (tenant_id, user_id, occurred_at DESC).
 */
export class AuthAccountSecurity1790200000000 implements MigrationInterface {
  name = 'AuthAccountSecurity1790200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE user_mfa (
        user_id uuid PRIMARY KEY,
        tenant_id varchar(40) NOT NULL,
        secret_encrypted bytea NOT NULL,
        enabled_at timestamptz,
        last_used_step bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX user_mfa_tenant_idx ON user_mfa (tenant_id)`);
    await queryRunner.query(`
      CREATE TABLE mfa_recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL,
        user_id uuid NOT NULL,
        code_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        CONSTRAINT mfa_recovery_codes_user_hash_unique UNIQUE (tenant_id, user_id, code_hash),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        tenant_id varchar(40) NOT NULL,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        ip varchar(45),
        user_agent varchar(512),
        revoked_at timestamptz,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id, last_used_at DESC)`);
    await queryRunner.query(`
      INSERT INTO sessions (id, tenant_id, user_id, created_at, last_used_at)
      SELECT family_id, tenant_id, user_id, min(created_at), max(created_at)
        FROM refresh_tokens
       GROUP BY family_id, tenant_id, user_id
      ON CONFLICT (id) DO NOTHING`);
    await queryRunner.query(`
      CREATE TABLE login_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL,
        user_id uuid NOT NULL,
        occurred_at timestamptz(3) NOT NULL DEFAULT now(),
        result varchar(32) NOT NULL CHECK (result IN (
          'success', 'wrong_password', 'locked', 'rate_limited', 'organisation_suspended',
          'mfa_required', 'mfa_failed', 'mfa_expired')),
        mfa_method varchar(16) CHECK (mfa_method IN ('totp', 'recovery_code')),
        ip varchar(45),
        user_agent varchar(512),
        session_id uuid,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE INDEX login_history_user_idx ON login_history (tenant_id, user_id, occurred_at DESC, id DESC)`,
    );
    await enableTenantRowLevelSecurity(queryRunner, ACCOUNT_SECURITY_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await disableTenantRowLevelSecurity(queryRunner, ACCOUNT_SECURITY_TABLES);
    for (const table of [...ACCOUNT_SECURITY_TABLES].reverse()) await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
