import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims and their evidence. Every row carries `tenant_id` (Row-Level Security policies will key on it).
 *
 * - `claims_tenant_owner_created_idx` serves a veteran's list (tenant, owner, newest first) and
 *   `claims_tenant_created_idx` an organisation's; both end in `id` so keyset pages are stable and index-only
 *   ordered. created_at has millisecond precision so cursors (epoch ms) compare exactly.
 * - `claim_evidence` is unique on (claim_id, document_id): attaching is idempotent under redelivery.
 */
export class ClaimsSchema1767312000000 implements MigrationInterface {
  readonly name = 'ClaimsSchema1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE claims (
        id              uuid         PRIMARY KEY,
        tenant_id       text         NOT NULL,
        owner_id        uuid         NOT NULL,
        title           text         NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
        type            text         NOT NULL
                        CHECK (type IN ('disability_compensation', 'pension', 'education', 'health_care', 'other')),
        status          text         NOT NULL DEFAULT 'submitted'
                        CHECK (status IN ('submitted', 'in_review', 'decided', 'closed')),
        evidence_count  integer      NOT NULL DEFAULT 0 CHECK (evidence_count >= 0),
        created_at      timestamptz(3) NOT NULL DEFAULT now(),
        updated_at      timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX claims_tenant_owner_created_idx ON claims (tenant_id, owner_id, created_at DESC, id DESC)`,
    );
    await queryRunner.query(`CREATE INDEX claims_tenant_created_idx ON claims (tenant_id, created_at DESC, id DESC)`);

    await queryRunner.query(`
      CREATE TABLE claim_evidence (
        id            uuid         PRIMARY KEY,
        tenant_id     text         NOT NULL,
        claim_id      uuid         NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
        document_id   uuid         NOT NULL,
        filename      text         NOT NULL,
        content_type  text         NOT NULL,
        size_bytes    bigint       NOT NULL CHECK (size_bytes >= 0),
        sha256        text         NOT NULL,
        added_at      timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT claim_evidence_claim_document_key UNIQUE (claim_id, document_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS claim_evidence`);
    await queryRunner.query(`DROP TABLE IF EXISTS claims`);
  }
}
