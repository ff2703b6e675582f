import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UserRole } from '../entities/user.entity';

export interface PendingInvitation {
  tenantId: string;
  email: string;
  role: UserRole;
  tokenHash: string;
  expiresAt: Date;
}

@Injectable()
export class InvitationRepository {
  /**
   * Records an invitation unless a live one exists: a pending, unexpired invitation is kept as it is (re-sending the
   * operator command is idempotent); an expired or accepted one is replaced by the new token.
   * Returns true when this call wrote a new invitation.
   */
  async upsertPending(manager: EntityManager, invitation: PendingInvitation): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, email) DO UPDATE
         SET role = EXCLUDED.role,
             token_hash = EXCLUDED.token_hash,
             expires_at = EXCLUDED.expires_at,
             created_at = now(),
             accepted_at = NULL
         WHERE invitations.accepted_at IS NOT NULL OR invitations.expires_at <= now()
       RETURNING id`,
      [invitation.tenantId, invitation.email, invitation.role, invitation.tokenHash, invitation.expiresAt],
    );
    return rows.length > 0;
  }
}
