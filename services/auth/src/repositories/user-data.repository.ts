import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Columns that name the user a row is about, in whatever auth table holds them (sessions, login history, audit...). */
export const USER_REFERENCE_COLUMNS: readonly string[] = ['user_id', 'actor_id', 'actor_user_id', 'subject_id', 'subject_user_id', 'target_user_id'];

/** Tables whose user rows are not "data about the user" to export or erase here. */
const NOT_USER_DATA = new Set(['users', 'gdpr_jobs', 'bus_outbox', 'bus_inbox']);

/** Column names whose values are secrets (hashes, keys, TOTP seeds): listed in an export, never copied into it. */
const SECRET_COLUMN = /hash|secret|encrypted|password|totp|recovery|private|token/i;
export const REDACTED = '[secret: not exported]';

export type ExportedRows = Array<Record<string, unknown>>;

interface UserTable {
  table: string;
  columns: string[];
}

/**
 * Auth's own part of a user's data, read and erased generically: the account row, then every table of this
 * database with a tenant and a user-reference column (USER_REFERENCE_COLUMNS), found in the catalogue, so tables
 * other features add (sessions, login history, audit entries, 2FA) are covered without a list to keep up to date.
 * Runs in a transaction bound to the tenant; every statement names the tenant too.
 */
@Injectable()
export class AuthUserDataRepository {
  /** Everything auth holds about the user, per table, secrets redacted; undefined when the account is gone. */
  async exportUser(manager: EntityManager, tenantId: string, userId: string): Promise<Record<string, ExportedRows> | undefined> {
    const account: ExportedRows = await manager.query(`SELECT * FROM users WHERE tenant_id = $1 AND id = $2`, [tenantId, userId]);
    if (account.length === 0) return undefined;
    const email = account[0]!.email as string;
    const result: Record<string, ExportedRows> = { account: account.map(redact) };
    result.organisation = await manager.query(`SELECT id, display_name, created_at FROM organisations WHERE id = $1`, [tenantId]);
    result.invitations = (await manager.query(`SELECT * FROM invitations WHERE tenant_id = $1 AND email = $2`, [tenantId, email])).map(redact);
    for (const { table, columns } of await this.userTables(manager)) {
      const rows: ExportedRows = await manager.query(
        `SELECT * FROM ${quoteIdent(table)} WHERE tenant_id = $1 AND (${columns.map((c) => `${quoteIdent(c)}::text = $2`).join(' OR ')})`,
        [tenantId, userId],
      );
      result[table] = rows.map(redact);
    }
    return result;
  }

  /**
   * Deletes the account and every row about it. A table that refuses (an append-only audit log, say) is skipped in
   * its own savepoint and reported in `retained`, so one legal hold never blocks the rest of the erasure.
   */
  async eraseUser(
    manager: EntityManager,
    tenantId: string,
    userId: string,
  ): Promise<{ deleted: Record<string, number>; retained: Record<string, string> }> {
    const deleted: Record<string, number> = {};
    const retained: Record<string, string> = {};
    const account: Array<{ email: string }> = await manager.query(`SELECT email FROM users WHERE tenant_id = $1 AND id = $2`, [tenantId, userId]);
    for (const { table, columns } of await this.userTables(manager)) {
      await manager.query('SAVEPOINT rf_user_erase');
      try {
        const [, affected] = (await manager.query(
          `DELETE FROM ${quoteIdent(table)} WHERE tenant_id = $1 AND (${columns.map((c) => `${quoteIdent(c)}::text = $2`).join(' OR ')})`,
          [tenantId, userId],
        )) as [unknown[], number];
        await manager.query('RELEASE SAVEPOINT rf_user_erase');
        deleted[table] = affected;
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT rf_user_erase');
        retained[table] = error instanceof Error ? error.message : String(error);
      }
    }
    if (account[0]) {
      const [, invitations] = (await manager.query(`DELETE FROM invitations WHERE tenant_id = $1 AND email = $2`, [tenantId, account[0].email])) as [
        unknown[],
        number,
      ];
      deleted.invitations = (deleted.invitations ?? 0) + invitations;
    }
    const [, users] = (await manager.query(`DELETE FROM users WHERE tenant_id = $1 AND id = $2`, [tenantId, userId])) as [unknown[], number];
    deleted.users = users;
    return { deleted, retained };
  }

  /** Locks the account row until the transaction ends (serialises concurrent deletion requests); false when gone. */
  async lockAccount(manager: EntityManager, tenantId: string, userId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, userId]);
    return rows.length === 1;
  }

  /** Revokes every live refresh token of the user (the account is going; so are its sessions). */
  async revokeSessions(manager: EntityManager, tenantId: string, userId: string): Promise<number> {
    const [, affected] = (await manager.query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [tenantId, userId],
    )) as [unknown[], number];
    return affected;
  }

  /** Replaces the password hash so that no password opens the account while its erasure runs. */
  async lockPassword(manager: EntityManager, tenantId: string, userId: string, unusableHash: string): Promise<void> {
    await manager.query(`UPDATE users SET password_hash = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, userId, unusableHash]);
  }

  private async userTables(manager: EntityManager): Promise<UserTable[]> {
    const rows: Array<{ table_name: string; columns: string[] }> = await manager.query(
      `SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.column_name) AS columns
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.column_name = ANY($1)
         AND EXISTS (SELECT 1 FROM information_schema.columns tc
                     WHERE tc.table_schema = c.table_schema AND tc.table_name = c.table_name AND tc.column_name = 'tenant_id')
       GROUP BY c.table_name ORDER BY c.table_name`,
      [USER_REFERENCE_COLUMNS],
    );
    return rows.filter((row) => !NOT_USER_DATA.has(row.table_name)).map((row) => ({ table: row.table_name, columns: row.columns }));
  }
}

function redact(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    out[column] = SECRET_COLUMN.test(column) || Buffer.isBuffer(value) ? (value === null ? null : REDACTED) : value;
  }
  return out;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
