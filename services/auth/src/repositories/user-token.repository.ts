import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UserTokenEntity, type UserTokenPurpose } from '../entities/user-token.entity';

export interface NewUserToken {
  tenantId: string;
  userId: string;
  purpose: UserTokenPurpose;
  tokenHash: string;
  expiresAt: Date;
}

/** Single-use e-mailed tokens; every query names the tenant (and runs under its Row-Level Security binding). */
@Injectable()
export class UserTokenRepository {
  /** Stores a new token and deletes the user's unused ones of the same purpose: only the latest e-mail works. */
  async replace(manager: EntityManager, token: NewUserToken): Promise<void> {
    await manager.query(
      `DELETE FROM user_tokens WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL`,
      [token.tenantId, token.userId, token.purpose],
    );
    await manager.insert(UserTokenEntity, token);
  }

  /** Finds a token by hash; `lock` takes a row lock so that two concurrent uses of one token serialise. */
  findByHash(
    manager: EntityManager,
    tenantId: string,
    purpose: UserTokenPurpose,
    tokenHash: string,
    lock = false,
  ): Promise<UserTokenEntity | null> {
    return manager.findOne(UserTokenEntity, {
      where: { tenantId, purpose, tokenHash },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  async markUsed(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.update(UserTokenEntity, { tenantId, id }, { usedAt: at });
  }
}
