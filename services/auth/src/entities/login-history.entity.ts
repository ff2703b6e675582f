import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What became of a login attempt (password step or two-factor step) for an existing account. */
export const LOGIN_RESULTS = [
  'success',
  'wrong_password',
  'locked',
  'rate_limited',
  'organisation_suspended',
  'mfa_required',
  'mfa_failed',
  'mfa_expired',
] as const;
export type LoginResult = (typeof LOGIN_RESULTS)[number];

/** How a two-factor step was passed. */
export const MFA_METHODS = ['totp', 'recovery_code'] as const;
export type MfaMethod = (typeof MFA_METHODS)[number];

/** Append-only record of login attempts of existing accounts (unknown accounts leave no trace: there is no owner). */
@Entity({ name: 'login_history' })
export class LoginHistoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 40 })
  tenantId!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz', precision: 3 })
  occurredAt!: Date;

  @Column({ type: 'varchar', length: 32 })
  result!: LoginResult;

  @Column({ name: 'mfa_method', type: 'varchar', length: 16, nullable: true })
  mfaMethod!: MfaMethod | null;

  @Column({ type: 'varchar', length: 45, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;
}
