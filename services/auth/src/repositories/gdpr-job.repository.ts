import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type GdprJobKind = 'export' | 'deletion';
export type GdprJobStatus = 'pending' | 'ready' | 'failed' | 'expired' | 'completed';

/** What each service reported when it erased a user's data (`user.data.erased`), by service name. */
export type ErasureAcks = Record<string, { erased: Record<string, number>; anonymised: Record<string, number>; at: string }>;

export interface GdprJob {
  id: string;
  tenantId: string;
  userId: string;
  kind: GdprJobKind;
  status: GdprJobStatus;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  expiresAt: Date | null;
  archiveBytes: number | null;
  archiveSha256: string | null;
  error: string | null;
  acks: ErasureAcks;
}

const JOB_COLUMNS = `id, tenant_id AS "tenantId", user_id AS "userId", kind, status, created_at AS "createdAt",
  updated_at AS "updatedAt", completed_at AS "completedAt", expires_at AS "expiresAt",
  archive_bytes::int AS "archiveBytes", archive_sha256 AS "archiveSha256", error, acks`;

/** `gdpr_jobs`: every statement names the tenant (and the user where a user asks), on top of Row-Level Security. */
@Injectable()
export class GdprJobRepository {
  async insert(manager: EntityManager, job: { id: string; tenantId: string; userId: string; kind: GdprJobKind }): Promise<GdprJob> {
    const rows: GdprJob[] = await manager.query(
      `INSERT INTO gdpr_jobs (id, tenant_id, user_id, kind, status) VALUES ($1, $2, $3, $4, 'pending') RETURNING ${JOB_COLUMNS}`,
      [job.id, job.tenantId, job.userId, job.kind],
    );
    return rows[0]!;
  }

  /** The job, only if it is `userId`'s (a job of someone else is as missing as an unknown one). */
  async findForUser(manager: EntityManager, tenantId: string, userId: string, id: string, kind: GdprJobKind): Promise<GdprJob | undefined> {
    const rows: GdprJob[] = await manager.query(
      `SELECT ${JOB_COLUMNS} FROM gdpr_jobs WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND kind = $4`,
      [tenantId, userId, id, kind],
    );
    return rows[0];
  }

  /** Locks the job until the transaction ends (one handler at a time works on it). */
  async findForUpdate(manager: EntityManager, tenantId: string, id: string): Promise<GdprJob | undefined> {
    const rows: GdprJob[] = await manager.query(`SELECT ${JOB_COLUMNS} FROM gdpr_jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
      tenantId,
      id,
    ]);
    return rows[0];
  }

  async findPendingDeletion(manager: EntityManager, tenantId: string, userId: string): Promise<GdprJob | undefined> {
    const rows: GdprJob[] = await manager.query(
      `SELECT ${JOB_COLUMNS} FROM gdpr_jobs WHERE tenant_id = $1 AND user_id = $2 AND kind = 'deletion' AND status = 'pending'`,
      [tenantId, userId],
    );
    return rows[0];
  }

  async archive(manager: EntityManager, tenantId: string, userId: string, id: string): Promise<Buffer | undefined> {
    const rows: Array<{ archive: Buffer | null }> = await manager.query(
      `SELECT archive FROM gdpr_jobs WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND kind = 'export'
         AND status = 'ready' AND expires_at > now()`,
      [tenantId, userId, id],
    );
    return rows[0]?.archive ?? undefined;
  }

  async markReady(
    manager: EntityManager,
    tenantId: string,
    id: string,
    archive: { bytes: Buffer; sha256: string; expiresAt: Date },
  ): Promise<void> {
    await manager.query(
      `UPDATE gdpr_jobs SET status = 'ready', archive = $3, archive_bytes = $4, archive_sha256 = $5, expires_at = $6,
         completed_at = now(), updated_at = now(), error = NULL
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, archive.bytes, archive.bytes.length, archive.sha256, archive.expiresAt],
    );
  }

  async markFailed(manager: EntityManager, tenantId: string, id: string, error: string): Promise<void> {
    await manager.query(`UPDATE gdpr_jobs SET status = 'failed', error = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
      error,
    ]);
  }

  async recordAcks(manager: EntityManager, tenantId: string, id: string, acks: ErasureAcks): Promise<void> {
    await manager.query(`UPDATE gdpr_jobs SET acks = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
      JSON.stringify(acks),
    ]);
  }

  async markCompleted(manager: EntityManager, tenantId: string, id: string, error: string | null): Promise<void> {
    await manager.query(
      `UPDATE gdpr_jobs SET status = 'completed', completed_at = now(), updated_at = now(), error = $3 WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, error],
    );
  }

  /** Drops the archives of the tenant's expired exports (called whenever an export is asked for). */
  async expireArchives(manager: EntityManager, tenantId: string): Promise<number> {
    const [, affected] = (await manager.query(
      `UPDATE gdpr_jobs SET archive = NULL, status = 'expired', updated_at = now()
       WHERE tenant_id = $1 AND archive IS NOT NULL AND expires_at <= now()`,
      [tenantId],
    )) as [unknown[], number];
    return affected;
  }
}
