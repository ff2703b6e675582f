import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ClaimStatus, ClaimType } from '../claims.constants';

/** A benefit claim filed by a veteran (`owner_id`) of one organisation (`tenant_id`). */
@Entity({ name: 'claims' })
@Index('claims_tenant_owner_created_idx', ['tenantId', 'ownerId', 'createdAt', 'id'])
@Index('claims_tenant_created_idx', ['tenantId', 'createdAt', 'id'])
export class ClaimEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text' })
  type!: ClaimType;

  @Column({ type: 'text' })
  status!: ClaimStatus;

  /** Denormalised count of `claim_evidence` rows, kept in the same transaction as each insert. */
  @Column({ name: 'evidence_count', type: 'integer', default: 0 })
  evidenceCount!: number;

  /** Millisecond precision, so keyset cursors (epoch ms) match rows exactly. */
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
