import { Injectable } from '@nestjs/common';
import { IsNull, type EntityManager } from 'typeorm';
import { MfaRecoveryCodeEntity } from '../entities/mfa-recovery-code.entity';
import { UserMfaEntity } from '../entities/user-mfa.entity';

/** A user's TOTP authenticator and recovery codes; every statement names tenant and user. */
@Injectable()
export class UserMfaRepository {
  /** The authenticator row, locked for update when `lock` (code checks serialise, so a code is accepted once). */
  find(manager: EntityManager, tenantId: string, userId: string, lock = false): Promise<UserMfaEntity | null> {
    return manager.findOne(UserMfaEntity, {
      where: { tenantId, userId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /** Whether the user has confirmed two-factor authentication. */
  async isEnabled(manager: EntityManager, tenantId: string, userId: string): Promise<boolean> {
    const row = await manager.findOne(UserMfaEntity, { select: { enabledAt: true }, where: { tenantId, userId } });
    return !!row?.enabledAt;
  }

  /** Stores a new, not yet confirmed secret (replacing an unconfirmed one); never touches an enabled authenticator. */
  async savePending(manager: EntityManager, tenantId: string, userId: string, secretEncrypted: Buffer): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO user_mfa (user_id, tenant_id, secret_encrypted) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE
         SET secret_encrypted = EXCLUDED.secret_encrypted, last_used_step = NULL, updated_at = now(), created_at = now()
       WHERE user_mfa.enabled_at IS NULL AND user_mfa.tenant_id = EXCLUDED.tenant_id
       RETURNING user_id`,
      [userId, tenantId, secretEncrypted],
    );
    return rows.length > 0;
  }

  async markUsed(manager: EntityManager, tenantId: string, userId: string, step: number, enable: boolean): Promise<void> {
    await manager.update(
      UserMfaEntity,
      { tenantId, userId },
      enable ? { lastUsedStep: step, enabledAt: new Date() } : { lastUsedStep: step },
    );
  }

  /** Removes the authenticator and every recovery code. */
  async remove(manager: EntityManager, tenantId: string, userId: string): Promise<void> {
    await manager.delete(MfaRecoveryCodeEntity, { tenantId, userId });
    await manager.delete(UserMfaEntity, { tenantId, userId });
  }

  /** Replaces every recovery code of the user with `codeHashes`. */
  async replaceRecoveryCodes(manager: EntityManager, tenantId: string, userId: string, codeHashes: string[]): Promise<void> {
    await manager.delete(MfaRecoveryCodeEntity, { tenantId, userId });
    await manager.insert(
      MfaRecoveryCodeEntity,
      codeHashes.map((codeHash) => ({ tenantId, userId, codeHash })),
    );
  }

  /** Spends the unused recovery code with this hash; false when there is none (wrong or already used). */
  async consumeRecoveryCode(manager: EntityManager, tenantId: string, userId: string, codeHash: string, at: Date): Promise<boolean> {
    const result = await manager.update(
      MfaRecoveryCodeEntity,
      { tenantId, userId, codeHash, usedAt: IsNull() },
      { usedAt: at },
    );
    return (result.affected ?? 0) > 0;
  }

  countUnusedRecoveryCodes(manager: EntityManager, tenantId: string, userId: string): Promise<number> {
    return manager.count(MfaRecoveryCodeEntity, { where: { tenantId, userId, usedAt: IsNull() } });
  }
}
