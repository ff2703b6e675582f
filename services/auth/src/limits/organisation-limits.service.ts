import { Injectable, Logger } from '@nestjs/common';
import { InjectRedis, publishTenantLimits, type TenantLimits } from '@rallyforge/service-kit';
import type Redis from 'ioredis';
import type { EntityManager } from 'typeorm';

export const OrganisationLimitsMessages = {
  publishFailed: "Could not publish the organisation's limits to Redis; services keep the previous ones until the next upsert",
} as const;

interface LimitsRow {
  api_requests_per_minute: number | null;
  max_users: number | null;
  document_storage_bytes: string | null;
}

/**
 * An organisation's application limits (its spec.quota, sent by the operator with auth.organisation.upsert):
 * stored on the organisation, and published to the Redis hash every service reads cheaply (`t:<id>:tenant-limits`,
 * see TenantLimitsReader). Runs in the caller's transaction, bound to the tenant.
 */
@Injectable()
export class OrganisationLimitsService {
  private readonly logger = new Logger(OrganisationLimitsService.name);

  constructor(@InjectRedis() private readonly redis: Redis) {}

  /** Replaces the limits (a field left out means "no limit"); `undefined` leaves them as they are. */
  async apply(manager: EntityManager, tenantId: string, limits: TenantLimits | undefined): Promise<void> {
    if (limits === undefined) return;
    await manager.query(
      `UPDATE organisations SET api_requests_per_minute = $2, max_users = $3, document_storage_bytes = $4, updated_at = now() WHERE id = $1`,
      [tenantId, limits.apiRequestsPerMinute ?? null, limits.users ?? null, limits.documentStorageBytes ?? null],
    );
    try {
      await publishTenantLimits(this.redis, tenantId, limits);
    } catch (error) {
      this.logger.warn({ msg: OrganisationLimitsMessages.publishFailed, tenantId, err: error });
    }
  }

  /** The stored limits (`{}` for an organisation without any, or an unknown one). */
  async read(manager: EntityManager, tenantId: string): Promise<TenantLimits> {
    const rows: LimitsRow[] = await manager.query(
      `SELECT api_requests_per_minute, max_users, document_storage_bytes FROM organisations WHERE id = $1`,
      [tenantId],
    );
    const row = rows[0];
    if (!row) return {};
    return {
      ...(row.api_requests_per_minute !== null ? { apiRequestsPerMinute: row.api_requests_per_minute } : {}),
      ...(row.max_users !== null ? { users: row.max_users } : {}),
      ...(row.document_storage_bytes !== null ? { documentStorageBytes: Number(row.document_storage_bytes) } : {}),
    };
  }
}
