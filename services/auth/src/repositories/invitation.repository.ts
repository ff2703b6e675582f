import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import { InvitationEntity } from '../entities/invitation.entity';
import { UserRole } from '../entities/user.entity';

export interface PendingInvitation {
  tenantId: string;
  email: string;
  role: UserRole;
  tokenHash: string;
  expiresAt: Date;
  /** The org_admin who sent it; undefined for the operator's invitations. */
  invitedBy?: string;
}

/** Every query names the tenant (and runs in a transaction bound to it). */
@Injectable()
export class InvitationRepository {
  /**
   * Records an invitation unless a live one exists: a pending, unexpired, unrevoked invitation is kept as it is (so
   * re-sending the operator command sends no second e-mail); an expired, revoked or accepted one is replaced by the
   * new token. Returns the new row's id when this call wrote one, undefined when a live invitation was kept.
   */
  async upsertPending(manager: EntityManager, invitation: PendingInvitation): Promise<string | undefined> {
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at, invited_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, email) DO UPDATE
         SET role = EXCLUDED.role,
             token_hash = EXCLUDED.token_hash,
             expires_at = EXCLUDED.expires_at,
             invited_by = EXCLUDED.invited_by,
             created_at = now(),
             accepted_at = NULL,
             accepted_user_id = NULL,
             revoked_at = NULL
         WHERE invitations.accepted_at IS NOT NULL
            OR invitations.revoked_at IS NOT NULL
            OR invitations.expires_at <= now()
       RETURNING id`,
      [
        invitation.tenantId,
        invitation.email,
        invitation.role,
        invitation.tokenHash,
        invitation.expiresAt,
        invitation.invitedBy ?? null,
      ],
    );
    return rows[0]?.id;
  }

  findByEmail(manager: EntityManager, tenantId: string, email: string): Promise<InvitationEntity | null> {
    return manager.findOne(InvitationEntity, { where: { tenantId, email } });
  }

  findById(manager: EntityManager, tenantId: string, id: string): Promise<InvitationEntity | null> {
    return manager.findOne(InvitationEntity, { where: { tenantId, id } });
  }

  /** Locks the row: two concurrent acceptances of one invitation serialise, and the second sees it accepted. */
  findByHash(manager: EntityManager, tenantId: string, tokenHash: string, lock = false): Promise<InvitationEntity | null> {
    return manager.findOne(InvitationEntity, {
      where: { tenantId, tokenHash },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /** Invitations that can still be accepted, newest first. */
  listPending(manager: EntityManager, tenantId: string, now: Date): Promise<InvitationEntity[]> {
    return manager.find(InvitationEntity, {
      where: { tenantId, acceptedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC' },
    });
  }

  /** Revokes a pending invitation; false when there is none with this id in the tenant. */
  async revoke(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<boolean> {
    const result = await manager.update(
      InvitationEntity,
      { tenantId, id, acceptedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(at) },
      { revokedAt: at },
    );
    return (result.affected ?? 0) > 0;
  }

  async markAccepted(manager: EntityManager, tenantId: string, id: string, userId: string, at: Date): Promise<void> {
    await manager.update(InvitationEntity, { tenantId, id }, { acceptedAt: at, acceptedUserId: userId });
  }
}
