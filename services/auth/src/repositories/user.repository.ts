import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { UserEntity, UserRole } from '../entities/user.entity';

export interface NewUser {
  tenantId: string;
  email: string;
  displayName: string | null;
  passwordHash: string;
  role: UserRole;
  /** Set when the account is created from an e-mailed invitation (the address is proven). */
  emailVerifiedAt?: Date | null;
}

/** Every query names the tenant: a user id alone never finds a row. */
@Injectable()
export class UserRepository {
  /** Inserts the user; undefined when the e-mail is already taken in that organisation. */
  async create(manager: EntityManager, user: NewUser): Promise<UserEntity | undefined> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(UserEntity)
      .values(user)
      .orIgnore()
      .returning('*')
      .execute();
    const row = result.raw[0] as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return manager.create(UserEntity, {
      id: row.id as string,
      tenantId: row.tenant_id as string,
      email: row.email as string,
      displayName: row.display_name as string | null,
      passwordHash: row.password_hash as string,
      role: row.role as UserRole,
      emailVerifiedAt: (row.email_verified_at as Date | null) ?? null,
      createdAt: row.created_at as Date,
      updatedAt: row.updated_at as Date,
    });
  }

  findByEmail(manager: EntityManager, tenantId: string, email: string): Promise<UserEntity | null> {
    return manager.findOne(UserEntity, { where: { tenantId, email } });
  }

  findById(manager: EntityManager, tenantId: string, id: string): Promise<UserEntity | null> {
    return manager.findOne(UserEntity, { where: { tenantId, id } });
  }

  async updatePasswordHash(manager: EntityManager, tenantId: string, id: string, passwordHash: string): Promise<void> {
    await manager.update(UserEntity, { tenantId, id }, { passwordHash });
  }

  /** Marks the address verified (the first time is kept). */
  async markEmailVerified(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.query(
      `UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3), updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, at],
    );
  }

  async findEmails(manager: EntityManager, tenantId: string, emails: string[]): Promise<Set<string>> {
    if (emails.length === 0) return new Set();
    const rows = await manager.find(UserEntity, { select: { email: true }, where: { tenantId, email: In(emails) } });
    return new Set(rows.map((row) => row.email));
  }
}
