import { MigrationInterface, QueryRunner } from 'typeorm';

/** The payments table. Hand-written (no synchronize): constraints carry the invariants the code relies on. */
export class CreatePayments1763800000000 implements MigrationInterface {
  name = 'CreatePayments1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE payments (
        id               uuid PRIMARY KEY,
        tenant_id        text NOT NULL CHECK (tenant_id <> ''),
        user_id          uuid NOT NULL,
        plan_id          text NOT NULL,
        amount_cents     integer NOT NULL CHECK (amount_cents >= 0),
        currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        provider         text NOT NULL,
        provider_ref     text,
        checkout_url     text,
        idempotency_key  text CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
        period_end       timestamptz,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CHECK (status <> 'succeeded' OR (provider_ref IS NOT NULL AND period_end IS NOT NULL))
      )`);
    // Listing: a user's own payments, and an organisation's, newest first.
    await queryRunner.query(`CREATE INDEX payments_tenant_user_created_idx ON payments (tenant_id, user_id, created_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX payments_tenant_created_idx ON payments (tenant_id, created_at DESC, id DESC)`);
    // Idempotency: one payment per (tenant, user, key); concurrent retries race on this index, not in the code.
    await queryRunner.query(
      `CREATE UNIQUE INDEX payments_idempotency_key_uq ON payments (tenant_id, user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    // Provider webhooks (Stripe, later) find the payment by the provider's reference.
    await queryRunner.query(
      `CREATE UNIQUE INDEX payments_provider_ref_uq ON payments (provider, provider_ref) WHERE provider_ref IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE payments`);
  }
}
