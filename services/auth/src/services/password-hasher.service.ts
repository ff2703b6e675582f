import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConfig } from '@rallyforge/service-kit';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import type { AuthConfig } from '../config';

/**
 * argon2id hashing with the configured cost. Verifying against `dummyHash` for unknown users makes a login for an
 * unknown e-mail cost the same as a wrong password, so response times do not reveal which accounts exist.
 */
@Injectable()
export class PasswordHasherService implements OnModuleInit {
  private readonly options: argon2.Options;
  private dummyHash?: Promise<string>;

  constructor(@InjectConfig() config: AuthConfig) {
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    };
  }

  /**
   * Computes the dummy hash at boot: made lazily, the first login for an unknown account would cost a hash and a
   * verification, twice a wrong password's time.
   */
  async onModuleInit(): Promise<void> {
    await this.dummy();
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.options);
  }

  /** False for a wrong password and for a malformed stored hash (never throws on bad input). */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the time of a real verification, and always answers false. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.dummy(), password);
    return false;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url'));
    return this.dummyHash;
  }

  /** True when the stored hash was made with other cost settings than today's (upgrade it on the next login). */
  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, this.options);
    } catch {
      return false;
    }
  }
}
