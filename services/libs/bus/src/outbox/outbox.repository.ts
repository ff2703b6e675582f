import type { Envelope } from '@rallyforge/contracts';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { OUTBOX_ROW_RETRY_BASE_MS, OUTBOX_ROW_RETRY_MAX_MS, OUTBOX_TABLE } from '../bus.constants';
import type { TraceHeaders } from '../trace-context';

/** A pending outbox row as the relay reads it. */
export interface OutboxRow {
  readonly id: string;
  readonly envelope: Envelope;
  readonly headers: TraceHeaders;
  readonly attempts: number;
}

/** SQL of the `bus_outbox` table (only repositories touch PostgreSQL). */
export class OutboxRepository {
  /** Inserts events in the caller's transaction (one statement for the whole list). */
  static async insert(manager: EntityManager, rows: ReadonlyArray<{ envelope: Envelope; headers: TraceHeaders }>): Promise<void> {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const values = rows.map(({ envelope, headers }, i) => {
      params.push(envelope.id, envelope.type, envelope.version, envelope.tenantId, JSON.stringify(envelope), JSON.stringify(headers));
      const b = i * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb, $${b + 6}::jsonb)`;
    });
    await manager.query(`INSERT INTO ${OUTBOX_TABLE} (id, type, version, tenant_id, envelope, headers) VALUES ${values.join(', ')}`, params);
  }

  /**
   * Locks up to `limit` due pending rows in commit order. SKIP LOCKED lets relays of several replicas work at
   * once without waiting on each other or publishing a row twice.
   */
  static async lockPending(queryRunner: QueryRunner, limit: number): Promise<OutboxRow[]> {
    return queryRunner.query(
      `SELECT id, envelope, headers, attempts FROM ${OUTBOX_TABLE}
       WHERE sent_at IS NULL AND available_at <= now()
       ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  static async markSent(queryRunner: QueryRunner, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await queryRunner.query(`UPDATE ${OUTBOX_TABLE} SET sent_at = now() WHERE id = ANY($1::uuid[])`, [ids]);
  }

  /** Counts the failed attempt and pushes the row back (exponentially, capped) so it cannot block the others. */
  static async markFailed(queryRunner: QueryRunner, failures: ReadonlyArray<{ id: string; error: string }>): Promise<void> {
    if (failures.length === 0) return;
    await queryRunner.query(
      `UPDATE ${OUTBOX_TABLE} AS o
       SET attempts = o.attempts + 1,
           last_error = f.error,
           available_at = now() + make_interval(secs => least($3::double precision, $4::double precision * power(2, o.attempts)) / 1000)
       FROM unnest($1::uuid[], $2::text[]) AS f(id, error)
       WHERE o.id = f.id`,
      [failures.map((f) => f.id), failures.map((f) => f.error), OUTBOX_ROW_RETRY_MAX_MS, OUTBOX_ROW_RETRY_BASE_MS],
    );
  }

  static async countPending(dataSource: DataSource): Promise<number> {
    const rows: Array<{ count: number }> = await dataSource.query(`SELECT count(*)::int AS count FROM ${OUTBOX_TABLE} WHERE sent_at IS NULL`);
    return rows[0]?.count ?? 0;
  }

  /** Deletes up to `limit` rows sent more than `retentionMs` ago; returns how many. */
  static async deleteSentBefore(dataSource: DataSource, retentionMs: number, limit: number): Promise<number> {
    const rows: Array<{ count: number }> = await dataSource.query(
      `WITH doomed AS (
         SELECT id FROM ${OUTBOX_TABLE}
         WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT $2
       ), deleted AS (
         DELETE FROM ${OUTBOX_TABLE} o USING doomed d WHERE o.id = d.id RETURNING 1
       ) SELECT count(*)::int AS count FROM deleted`,
      [retentionMs, limit],
    );
    return rows[0]?.count ?? 0;
  }
}
