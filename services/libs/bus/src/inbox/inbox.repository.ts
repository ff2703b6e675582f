import type { DataSource, EntityManager } from 'typeorm';
import { INBOX_TABLE } from '../bus.constants';

/** SQL of the `bus_inbox` table (only repositories touch PostgreSQL). */
export class InboxRepository {
  /**
   * Records that `consumer` handles `messageId`, inside the handler's transaction. False when the row exists:
   * the message was handled before (a concurrent first delivery makes this wait for that transaction's outcome).
   */
  static async claim(manager: EntityManager, consumer: string, messageId: string, type: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO ${INBOX_TABLE} (consumer, message_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS claimed`,
      [consumer, messageId, type],
    );
    return rows.length === 1;
  }

  /**
   * `claim` for several messages in one statement; returns the ids (lower-case) that were new. An id listed twice
   * is returned once.
   */
  static async claimMany(manager: EntityManager, consumer: string, messages: ReadonlyArray<{ id: string; type: string }>): Promise<Set<string>> {
    const rows: Array<{ message_id: string }> = await manager.query(
      `INSERT INTO ${INBOX_TABLE} (consumer, message_id, type)
       SELECT $1, m.id, m.type FROM unnest($2::uuid[], $3::text[]) AS m(id, type)
       ON CONFLICT DO NOTHING RETURNING message_id`,
      [consumer, messages.map((m) => m.id), messages.map((m) => m.type)],
    );
    return new Set(rows.map((row) => row.message_id.toLowerCase()));
  }

  /** Deletes up to `limit` rows older than `retentionMs`; returns how many. */
  static async deleteOlderThan(dataSource: DataSource, retentionMs: number, limit: number): Promise<number> {
    const rows: Array<{ count: number }> = await dataSource.query(
      `WITH doomed AS (
         SELECT consumer, message_id FROM ${INBOX_TABLE}
         WHERE received_at < now() - make_interval(secs => $1::double precision / 1000) LIMIT $2
       ), deleted AS (
         DELETE FROM ${INBOX_TABLE} i USING doomed d WHERE i.consumer = d.consumer AND i.message_id = d.message_id RETURNING 1
       ) SELECT count(*)::int AS count FROM deleted`,
      [retentionMs, limit],
    );
    return rows[0]?.count ?? 0;
  }
}
