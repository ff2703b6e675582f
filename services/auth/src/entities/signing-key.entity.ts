import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The public half of an Ed25519 key as a JWK (`kty: OKP`, `crv: Ed25519`, `x`). */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
}

/**
 * An access-token signing key. Platform-level (no tenant): every tenant's tokens are signed by the same key set.
 * The private key is PKCS#8 DER sealed with AES-256-GCM under `AUTH_KEY_ENCRYPTION_KEY` (the kid is the associated data).
 */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  algorithm!: string;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: PublicJwk;

  @Column({ name: 'private_key_encrypted', type: 'bytea', select: false })
  privateKeyEncrypted!: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'retires_at', type: 'timestamptz' })
  retiresAt!: Date;
}
