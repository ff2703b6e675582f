import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull } from 'typeorm';
import { RefreshTokenEntity } from '../entities/refresh-token.entity';

export interface NewRefreshToken {
  tenantId: string;
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
}

@Injectable()
export class RefreshTokenRepository {
  async insert(manager: EntityManager, token: NewRefreshToken): Promise<void> {
    await manager.insert(RefreshTokenEntity, token);
  }

  /** Locks the row so that two concurrent refreshes with one token serialise (the second one sees it spent). */
  findByHashForUpdate(manager: EntityManager, tenantId: string, tokenHash: string): Promise<RefreshTokenEntity | null> {
    return manager.findOne(RefreshTokenEntity, {
      where: { tenantId, tokenHash },
      lock: { mode: 'pessimistic_write' },
    });
  }

  async markUsed(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.update(RefreshTokenEntity, { tenantId, id }, { usedAt: at });
  }

  /** Revokes every live token of every family (session) of the user, e.g. after a password reset; returns how many. */
  async revokeAllForUser(manager: EntityManager, tenantId: string, userId: string, at: Date): Promise<number> {
    const result = await manager.update(RefreshTokenEntity, { tenantId, userId, revokedAt: IsNull() }, { revokedAt: at });
    return result.affected ?? 0;
  }

  /** Revokes every token of the family that is not revoked yet; returns how many were. */
  async revokeFamily(manager: EntityManager, tenantId: string, familyId: string, at: Date): Promise<number> {
    const result = await manager.update(
      RefreshTokenEntity,
      { tenantId, familyId, revokedAt: IsNull() },
      { revokedAt: at },
    );
    return result.affected ?? 0;
  }
}
