import { Injectable } from '@nestjs/common';
import { EntityManager, MoreThan } from 'typeorm';
import { PublicJwk, SigningKeyEntity } from '../entities/signing-key.entity';

/** Any constant 64-bit number unique to this purpose; all replicas take the same lock before creating a key. */
const SIGNING_KEY_ROTATION_LOCK = 0x61757468_6b657973n; // "authkeys"

export interface NewSigningKey {
  kid: string;
  algorithm: string;
  publicJwk: PublicJwk;
  privateKeyEncrypted: Buffer;
  createdAt: Date;
  retiresAt: Date;
}

@Injectable()
export class SigningKeyRepository {
  /** Keys that have not retired before `since`, without their private halves. */
  listRetiringAfter(manager: EntityManager, since: Date): Promise<SigningKeyEntity[]> {
    return manager.find(SigningKeyEntity, { where: { retiresAt: MoreThan(since) }, order: { createdAt: 'DESC' } });
  }

  findPublic(manager: EntityManager, kid: string): Promise<SigningKeyEntity | null> {
    return manager.findOne(SigningKeyEntity, { where: { kid } });
  }

  async findSealedPrivateKey(manager: EntityManager, kid: string): Promise<Buffer | undefined> {
    const row = await manager.findOne(SigningKeyEntity, {
      select: { kid: true, privateKeyEncrypted: true },
      where: { kid },
    });
    return row?.privateKeyEncrypted;
  }

  async insert(manager: EntityManager, key: NewSigningKey): Promise<void> {
    await manager.insert(SigningKeyEntity, key);
  }

  /** Transaction-scoped advisory lock: released at commit/rollback, so a crashed replica cannot hold it. */
  async lockRotation(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_ROTATION_LOCK.toString()]);
  }
}
