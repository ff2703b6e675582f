import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Document metadata. Every row carries `tenant_id` (Row-Level Security policies will key on it). There is no
 * foreign key to claims: claims live in the claims service's database (see DocumentsService.upload).
 */
export class DocumentsSchema1767312000000 implements MigrationInterface {
  readonly name = 'DocumentsSchema1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE documents (
        id            uuid           PRIMARY KEY,
        tenant_id     text           NOT NULL,
        owner_id      uuid           NOT NULL,
        claim_id      uuid           NOT NULL,
        filename      text           NOT NULL CHECK (char_length(filename) BETWEEN 1 AND 255),
        content_type  text           NOT NULL,
        size_bytes    bigint         NOT NULL CHECK (size_bytes >= 0),
        sha256        char(64)       NOT NULL,
        storage_key   text           NOT NULL UNIQUE,
        created_at    timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX documents_tenant_owner_created_idx ON documents (tenant_id, owner_id, created_at DESC)`,
    );
    await queryRunner.query(`CREATE INDEX documents_tenant_claim_idx ON documents (tenant_id, claim_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS documents`);
  }
}
