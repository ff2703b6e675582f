import { Injectable, Logger } from '@nestjs/common';
import { InjectRedis } from '@rallyforge/service-kit';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';

export const MailThrottleMessages = {
  redisFailed: (error: unknown) =>
    `Mail request throttle failed (${error instanceof Error ? error.message : String(error)}); allowing the request`,
} as const;

export interface ThrottleDecision {
  allowed: boolean;
  /** Seconds until the window ends (when refused). */
  retryAfterSeconds: number;
}

/**
 * Counts e-mail requests (verification re-sends, password reset requests) per tenant, purpose and account in Redis,
 * so the limit holds across replicas. Keys follow the tenancy contract (`t:<tenant>:`) and hold a hash of the
 * account, never the address. A fixed window starts at the first request. Redis trouble fails open: the limit
 * protects inboxes from floods, and refusing every reset while Redis is down would be worse.
 */
@Injectable()
export class MailThrottleRepository {
  private readonly logger = new Logger(MailThrottleRepository.name);

  constructor(@InjectRedis() private readonly redis: Redis) {}

  async hit(tenantId: string, purpose: string, account: string, limit: number, windowSeconds: number): Promise<ThrottleDecision> {
    const key = `t:${tenantId}:auth:mail-requests:${purpose}:${createHash('sha256').update(account).digest('base64url')}`;
    try {
      const results = await this.redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
      const count = Number(results?.[0]?.[1] ?? 0);
      const ttl = Number(results?.[2]?.[1] ?? windowSeconds);
      return { allowed: count <= limit, retryAfterSeconds: ttl > 0 ? ttl : windowSeconds };
    } catch (error) {
      this.logger.warn(MailThrottleMessages.redisFailed(error));
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }
}
