import { Injectable } from '@nestjs/common';
import { InjectRedis } from '@rallyforge/service-kit';
import type Redis from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';

/**
 * The second step of a two-factor login: an opaque `mfa1.<tenantId>.<32 random bytes>` handed out after the
 * password step, valid MFA_CHALLENGE_TTL_SECONDS, spent by the first successful code. Only its SHA-256 names the
 * Redis key (under the tenant's `t:<id>:` prefix), so a Redis dump holds no usable challenge.
 */
const PREFIX = 'mfa1';
const RANDOM_BYTES = 32;
const KEY_SUFFIX = ':auth:mfa-challenge:';
const TENANT_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface MfaChallenge {
  tenantId: string;
  userId: string;
  email: string;
  /** Wrong codes entered against this challenge so far. */
  failures: number;
}

export interface ParsedMfaChallengeToken {
  tenantId: string;
  key: string;
}

@Injectable()
export class MfaChallengeRepository {
  constructor(@InjectRedis() private readonly redis: Redis) {}

  /** Stores a new challenge for the user and returns its token. */
  async create(challenge: Omit<MfaChallenge, 'failures'>, ttlSeconds: number): Promise<string> {
    const token = `${PREFIX}.${challenge.tenantId}.${randomBytes(RANDOM_BYTES).toString('base64url')}`;
    const key = keyOf(challenge.tenantId, token);
    await this.redis
      .multi()
      .hset(key, { userId: challenge.userId, email: challenge.email, failures: '0' })
      .expire(key, ttlSeconds)
      .exec();
    return token;
  }

  /** The live challenge behind `token`, or undefined (unknown, expired, spent or malformed). */
  async find(token: string): Promise<(MfaChallenge & { key: string }) | undefined> {
    const parsed = parseMfaChallengeToken(token);
    if (!parsed) return undefined;
    const fields = await this.redis.hgetall(parsed.key);
    if (!fields.userId || !fields.email) return undefined;
    return { key: parsed.key, tenantId: parsed.tenantId, userId: fields.userId, email: fields.email, failures: Number(fields.failures ?? 0) };
  }

  /** Counts a wrong code; returns the failures so far (the key keeps its expiry). */
  async recordFailure(key: string): Promise<number> {
    return this.redis.hincrby(key, 'failures', 1);
  }

  /** Spends the challenge; true only for the one caller that deleted it (concurrent codes: one wins). */
  async consume(key: string): Promise<boolean> {
    return (await this.redis.del(key)) === 1;
  }
}

export function parseMfaChallengeToken(token: string): ParsedMfaChallengeToken | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, tenantId, secret] = parts as [string, string, string];
  if (tenantId.length > 40 || !TENANT_ID.test(tenantId) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return { tenantId, key: keyOf(tenantId, token) };
}

function keyOf(tenantId: string, token: string): string {
  return `t:${tenantId}${KEY_SUFFIX}${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}
