import { Injectable, Logger } from '@nestjs/common';
import { InjectRedis } from '@rallyforge/service-kit';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';

/**
 * Under the tenant's Redis prefix (`t:<id>:`, docs/TENANCY): a dedicated tenant's Redis user may only touch its own
 * prefix, and a refused key would make the lockout fail open.
 */
const KEY_SUFFIX = ':auth:login-failures:';

export const LoginAttemptMessages = {
  redisFailed: (operation: string, error: unknown) =>
    `Login throttle ${operation} failed (${error instanceof Error ? error.message : String(error)}); allowing the attempt`,
} as const;

/**
 * Failed-login counters in Redis, per organisation and e-mail (the e-mail is hashed: no personal data in Redis keys).
 * A fixed window starts at the first failure. Redis trouble never blocks a login: the throttle fails open, and the
 * argon2 cost still bounds guessing speed.
 */
@Injectable()
export class LoginAttemptRepository {
  private readonly logger = new Logger(LoginAttemptRepository.name);

  constructor(@InjectRedis() private readonly redis: Redis) {}

  async failures(tenantId: string, email: string): Promise<number> {
    try {
      return Number((await this.redis.get(key(tenantId, email))) ?? 0);
    } catch (error) {
      this.logger.warn(LoginAttemptMessages.redisFailed('read', error));
      return 0;
    }
  }

  async recordFailure(tenantId: string, email: string, windowSeconds: number): Promise<void> {
    try {
      await this.redis.multi().incr(key(tenantId, email)).expire(key(tenantId, email), windowSeconds, 'NX').exec();
    } catch (error) {
      this.logger.warn(LoginAttemptMessages.redisFailed('write', error));
    }
  }

  /** Seconds until the failure window ends (for Retry-After); `fallbackSeconds` when unknown. */
  async remainingSeconds(tenantId: string, email: string, fallbackSeconds: number): Promise<number> {
    try {
      const ttl = await this.redis.ttl(key(tenantId, email));
      return ttl > 0 ? ttl : fallbackSeconds;
    } catch (error) {
      this.logger.warn(LoginAttemptMessages.redisFailed('read', error));
      return fallbackSeconds;
    }
  }

  async reset(tenantId: string, email: string): Promise<void> {
    try {
      await this.redis.del(key(tenantId, email));
    } catch (error) {
      this.logger.warn(LoginAttemptMessages.redisFailed('reset', error));
    }
  }
}

function key(tenantId: string, email: string): string {
  return `t:${tenantId}${KEY_SUFFIX}${createHash('sha256').update(email).digest('base64url')}`;
}
