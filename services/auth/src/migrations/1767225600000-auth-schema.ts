import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Auth's tables. Every tenant-owned table has `tenant_id`, and child rows point at their user through
 * (tenant_id, user_id) so that the database itself refuses a row whose tenant differs from its user's.
 */
export class AuthSchema1767225600000 implements MigrationInterface {
  name = 'AuthSchema1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE organisations (
        id varchar(40) PRIMARY KEY CHECK (id ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
        display_name varchar(200) NOT NULL,
        registration varchar(16) NOT NULL CHECK (registration IN ('open', 'invite')),
        suspended boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL REFERENCES organisations (id),
        email varchar(320) NOT NULL CHECK (email = lower(email)),
        display_name varchar(200),
        password_hash text NOT NULL,
        role varchar(32) NOT NULL DEFAULT 'veteran'
          CHECK (role IN ('veteran', 'representative', 'org_admin', 'platform_admin')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_tenant_email_unique UNIQUE (tenant_id, email),
        CONSTRAINT users_tenant_id_unique UNIQUE (tenant_id, id)
      )`);
    await queryRunner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL,
        user_id uuid NOT NULL,
        family_id uuid NOT NULL,
        token_hash char(64) NOT NULL CONSTRAINT refresh_tokens_hash_unique UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id)`);
    await queryRunner.query(`CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant_id, user_id)`);
    await queryRunner.query(`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`);
    await queryRunner.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) PRIMARY KEY,
        algorithm varchar(16) NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_encrypted bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retires_at timestamptz NOT NULL,
        CHECK (retires_at > created_at)
      )`);
    await queryRunner.query(`CREATE INDEX signing_keys_retires_idx ON signing_keys (retires_at)`);
    await queryRunner.query(`
      CREATE TABLE invitations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id varchar(40) NOT NULL REFERENCES organisations (id),
        email varchar(320) NOT NULL CHECK (email = lower(email)),
        role varchar(32) NOT NULL CHECK (role IN ('veteran', 'representative', 'org_admin')),
        token_hash char(64) NOT NULL CONSTRAINT invitations_hash_unique UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        CONSTRAINT invitations_tenant_email_unique UNIQUE (tenant_id, email)
      )`);
    await queryRunner.query(`
      CREATE TABLE subscriptions (
        user_id uuid PRIMARY KEY,
        tenant_id varchar(40) NOT NULL,
        plan_id varchar(100) NOT NULL,
        current_period_end timestamptz NOT NULL,
        last_payment_id uuid NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX subscriptions_tenant_idx ON subscriptions (tenant_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['subscriptions', 'invitations', 'signing_keys', 'refresh_tokens', 'users', 'organisations']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
