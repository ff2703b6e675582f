import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectConfig } from '@rallyforge/service-kit';
import { calculateJwkThumbprint, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { keyEncryptionKeyFrom, type AuthConfig } from '../config';
import type { PublicJwk, SigningKeyEntity } from '../entities/signing-key.entity';
import { SigningKeyRepository } from '../repositories/signing-key.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { DEVELOPMENT_KEY_ENCRYPTION_KEY, decryptSecret, encryptSecret } from '../utils/key-encryption';
import {
  needsNewKey,
  pickSigningKey,
  publishedKeys,
  retirementFor,
  type RotationSettings,
} from '../utils/signing-key-schedule';

export const SIGNING_ALGORITHM = 'EdDSA';
/** How long a decrypted signing key is used before the key table is looked at again (rotation, new replicas' keys). */
export const SIGNING_KEY_CACHE_MS = 60_000;
/** Unknown kids make the verifier reload public keys at most this often, so junk tokens cannot hammer the database. */
export const PUBLIC_KEY_RELOAD_COOLDOWN_MS = 5_000;

export const SigningKeyMessages = {
  created: 'Created a signing key',
  developmentKek: 'AUTH_KEY_ENCRYPTION_KEY is not set: signing keys are encrypted with the development-only key',
  noActiveKey: 'No active signing key after rotation; the signing_keys table is inconsistent',
} as const;

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  retiresAt: Date;
}

interface PublishedKey {
  publicKey: KeyObject;
  retiresAt: Date;
}

/**
 * Owns the Ed25519 signing keys: creates the first one at boot, rotates them on schedule (one replica at a time,
 * under an advisory lock), hands the current private key to the token signer, serves the JWKS, and resolves public
 * keys for auth's own JwtAuthGuard without an HTTP call to itself.
 */
@Injectable()
export class SigningKeyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SigningKeyService.name);
  private readonly kek: Buffer;
  private readonly settings: RotationSettings;
  private current?: { key: SigningKey; loadedAt: number };
  private published = new Map<string, PublishedKey>();
  private publishedLoadedAt = 0;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly keys: SigningKeyRepository,
    @InjectConfig() config: AuthConfig,
  ) {
    const kek = keyEncryptionKeyFrom(config);
    if (!kek) this.logger.warn(SigningKeyMessages.developmentKek);
    this.kek = kek ?? DEVELOPMENT_KEY_ENCRYPTION_KEY;
    this.settings = {
      rotationMs: config.SIGNING_KEY_ROTATION_SECONDS * 1000,
      prepublishMs: config.SIGNING_KEY_PREPUBLISH_SECONDS * 1000,
      graceMs: config.SIGNING_KEY_GRACE_SECONDS * 1000,
    };
  }

  /** "Generated on first boot if none active": the service never answers a login without a key to sign with. */
  async onApplicationBootstrap(): Promise<void> {
    await this.signingKey();
  }

  /** The key to sign with now; rotates first when the schedule says so. */
  async signingKey(now = new Date()): Promise<SigningKey> {
    const cached = this.current;
    if (cached && now.getTime() - cached.loadedAt < SIGNING_KEY_CACHE_MS && cached.key.retiresAt > now) {
      return cached.key;
    }
    const key = await this.transactions.inPlatform(async (manager) => {
      let candidates = await this.keys.listRetiringAfter(manager, now);
      if (needsNewKey(candidates, now, this.settings)) {
        await this.keys.lockRotation(manager);
        // Another replica may have created the key while this one waited for the lock.
        candidates = await this.keys.listRetiringAfter(manager, now);
        if (needsNewKey(candidates, now, this.settings)) {
          candidates = [...candidates, await this.createKey(manager, candidates, now)];
        }
      }
      const chosen = pickSigningKey(candidates, now);
      if (!chosen) throw new Error(SigningKeyMessages.noActiveKey);
      const sealed = await this.keys.findSealedPrivateKey(manager, chosen.kid);
      if (!sealed) throw new Error(SigningKeyMessages.noActiveKey);
      const der = decryptSecret(sealed, this.kek, chosen.kid);
      return {
        kid: chosen.kid,
        retiresAt: chosen.retiresAt,
        privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
      };
    });
    this.current = { key, loadedAt: now.getTime() };
    return key;
  }

  /** The public JWKS: active keys and keys retired within the grace period. */
  async jwks(now = new Date()): Promise<{ keys: PublishedJwk[] }> {
    const keys = await this.loadPublished(now);
    return { keys: keys.map((key) => toPublicJwk(key.kid, key.publicJwk)) };
  }

  /** A jose key resolver over auth's own keys (the kit's `JWKS_KEY_RESOLVER`). */
  readonly resolveKey: JWTVerifyGetKey = async (header) => {
    const now = new Date();
    if (header.alg !== SIGNING_ALGORITHM || !header.kid) throw new joseErrors.JWKSNoMatchingKey();
    let entry = this.published.get(header.kid);
    if (!entry && now.getTime() - this.publishedLoadedAt >= PUBLIC_KEY_RELOAD_COOLDOWN_MS) {
      await this.loadPublished(now);
      entry = this.published.get(header.kid);
    }
    if (!entry || entry.retiresAt.getTime() + this.settings.graceMs <= now.getTime()) {
      throw new joseErrors.JWKSNoMatchingKey();
    }
    return entry.publicKey;
  };

  private async loadPublished(now: Date): Promise<SigningKeyEntity[]> {
    const since = new Date(now.getTime() - this.settings.graceMs);
    const rows = await this.transactions.inPlatform((manager) => this.keys.listRetiringAfter(manager, since));
    const keys = publishedKeys(rows, now, this.settings);
    this.published = new Map(
      keys.map((key) => [
        key.kid,
        { retiresAt: key.retiresAt, publicKey: createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' }) },
      ]),
    );
    this.publishedLoadedAt = now.getTime();
    return keys;
  }

  private async createKey(
    manager: Parameters<SigningKeyRepository['insert']>[0],
    existing: SigningKeyEntity[],
    now: Date,
  ): Promise<SigningKeyEntity> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    const publicJwk: PublicJwk = { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! };
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const retiresAt = retirementFor(existing, now, this.settings);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const key = { kid, algorithm: SIGNING_ALGORITHM, publicJwk, createdAt: now, retiresAt };
    await this.keys.insert(manager, { ...key, privateKeyEncrypted: encryptSecret(der, this.kek, kid) });
    this.logger.log({ msg: SigningKeyMessages.created, kid, retiresAt: retiresAt.toISOString() });
    return key as SigningKeyEntity;
  }
}

/** A JWKS entry: the public key plus what verifiers need to pick and use it. */
export interface PublishedJwk extends PublicJwk {
  kid: string;
  alg: string;
  use: 'sig';
}

function toPublicJwk(kid: string, jwk: PublicJwk): PublishedJwk {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
}
