import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GDPR jobs (docs/gdpr.md): one row per export or deletion request. An export keeps its archive here (bytea) until
 * `expires_at`; a deletion keeps which services confirmed the erasure (`acks`) and, once complete, stays as the
 * record that it was carried out (no foreign key to `users`: the row outlives the account on purpose).
 */
export class AuthGdprJobs1790400000000 implements MigrationInterface {
  name = 'AuthGdprJobs1790400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE gdpr_jobs (
        id              uuid         PRIMARY KEY,
        tenant_id       varchar(40)  NOT NULL,
        user_id         uuid         NOT NULL,
        kind            varchar(16)  NOT NULL CHECK (kind IN ('export', 'deletion')),
        status          varchar(16)  NOT NULL CHECK (status IN ('pending', 'ready', 'failed', 'expired', 'completed')),
        created_at      timestamptz  NOT NULL DEFAULT now(),
        updated_at      timestamptz  NOT NULL DEFAULT now(),
        completed_at    timestamptz,
        expires_at      timestamptz,
        archive         bytea,
        archive_bytes   bigint,
        archive_sha256  char(64),
        error           text,
        acks            jsonb        NOT NULL DEFAULT '{}'::jsonb
      )`);
    await queryRunner.query(`CREATE INDEX gdpr_jobs_tenant_user_idx ON gdpr_jobs (tenant_id, user_id, created_at DESC)`);
    await queryRunner.query(`CREATE INDEX gdpr_jobs_expires_idx ON gdpr_jobs (expires_at) WHERE archive IS NOT NULL`);
    // One deletion in flight per user: a second DELETE /me returns the pending one.
    await queryRunner.query(
      `CREATE UNIQUE INDEX gdpr_jobs_one_pending_deletion_uq ON gdpr_jobs (tenant_id, user_id) WHERE kind = 'deletion' AND status = 'pending'`,
    );
    await queryRunner.query(`ALTER TABLE gdpr_jobs ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(`ALTER TABLE gdpr_jobs FORCE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE POLICY tenant_isolation ON gdpr_jobs USING (tenant_id = current_setting('app.tenant_id', true))
       WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS gdpr_jobs`);
  }
}
