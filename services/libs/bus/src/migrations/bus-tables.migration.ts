import type { MigrationInterface, QueryRunner } from 'typeorm';
import { INBOX_TABLE, OUTBOX_NOTIFY_CHANNEL, OUTBOX_TABLE } from '../bus.constants';

/**
 * Creates the bus tables in a service's database. Add it to the service's migration list:
 * `migrations: [BusTables1700000000000, ...serviceMigrations]`.
 *
 * - `bus_outbox`: events written in the same transaction as the change they describe; the relay publishes
 *   pending rows (`sent_at IS NULL`) in `seq` order and marks them sent. A statement-level trigger NOTIFYs the
 *   relays (delivered on commit only, once per transaction), the in-process commit hook and polling are fallbacks.
 * - `bus_inbox`: one row per (consumer, message id) handled; inserted in the handler's transaction, so a
 *   redelivered message finds its row and is acknowledged without running the handler again.
 */
export class BusTables1700000000000 implements MigrationInterface {
  readonly name = 'BusTables1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ${OUTBOX_TABLE} (
        seq           bigint GENERATED ALWAYS AS IDENTITY,
        id            uuid        NOT NULL PRIMARY KEY,
        type          text        NOT NULL,
        version       integer     NOT NULL,
        tenant_id     text        NOT NULL,
        envelope      jsonb       NOT NULL,
        headers       jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at    timestamptz NOT NULL DEFAULT now(),
        available_at  timestamptz NOT NULL DEFAULT now(),
        sent_at       timestamptz,
        attempts      integer     NOT NULL DEFAULT 0,
        last_error    text
      )`);
    await queryRunner.query(`CREATE INDEX ${OUTBOX_TABLE}_pending_idx ON ${OUTBOX_TABLE} (seq) WHERE sent_at IS NULL`);
    await queryRunner.query(`CREATE INDEX ${OUTBOX_TABLE}_sent_idx ON ${OUTBOX_TABLE} (sent_at) WHERE sent_at IS NOT NULL`);
    await queryRunner.query(`
      CREATE FUNCTION ${OUTBOX_TABLE}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${OUTBOX_NOTIFY_CHANNEL}', '');
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(
      `CREATE TRIGGER ${OUTBOX_TABLE}_notify AFTER INSERT ON ${OUTBOX_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ${OUTBOX_TABLE}_notify()`,
    );
    await queryRunner.query(`
      CREATE TABLE ${INBOX_TABLE} (
        consumer      text        NOT NULL,
        message_id    uuid        NOT NULL,
        type          text        NOT NULL,
        received_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
    // BRIN: rows arrive in time order, so a tiny range index serves the retention cleanup at almost no insert cost.
    await queryRunner.query(`CREATE INDEX ${INBOX_TABLE}_received_idx ON ${INBOX_TABLE} USING brin (received_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS ${INBOX_TABLE}`);
    await queryRunner.query(`DROP TABLE IF EXISTS ${OUTBOX_TABLE}`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS ${OUTBOX_TABLE}_notify()`);
  }
}
