import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A user's TOTP authenticator. The secret is sealed with AES-256-GCM under AUTH_KEY_ENCRYPTION_KEY (the same
 * envelope as the signing keys, bound to tenant and user as associated data). Enrolment writes the row with
 * `enabled_at` NULL; only a confirmed code enables it. `last_used_step` is the newest time step a code was accepted
 * for: that code, and any older one, is refused afterwards.
 */
@Entity({ name: 'user_mfa' })
export class UserMfaEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId!: string;

  @Column({ name: 'secret_encrypted', type: 'bytea' })
  secretEncrypted!: Buffer;

  @Column({ name: 'enabled_at', type: 'timestamptz', nullable: true })
  enabledAt!: Date | null;

  @Column({
    name: 'last_used_step',
    type: 'bigint',
    nullable: true,
    transformer: { to: (value: number | null) => value, from: (value: string | null) => (value === null ? null : Number(value)) },
  })
  lastUsedStep!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
