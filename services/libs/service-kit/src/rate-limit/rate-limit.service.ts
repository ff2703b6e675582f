import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { Counter } from 'prom-client';
import type { AuthUser } from '../auth/auth-user';
import type { KitConfig } from '../config/base-config.schema';
import { SERVICE_CONFIG } from '../config/service-config.module';
import { AppError, ErrorCode } from '../errors/app-error';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS } from '../redis/redis.constants';
import { effectiveRateLimits, type EffectiveRateLimits } from './rate-limit.config';
import { RateLimiter, type RateLimitBucket, type RateLimitDecision } from './rate-limiter';
import { TenantLimitsReader } from './tenant-limits';

export const RateLimitHeaders = {
  limit: 'ratelimit-limit',
  remaining: 'ratelimit-remaining',
  reset: 'ratelimit-reset',
  retryAfter: 'retry-after',
} as const;

export const RateLimitMessages = {
  tooMany: (scope: RateLimitDecision['scope'], limit: number, seconds: number) =>
    `Too many requests: the ${SCOPE_NAMES[scope]} allows ${limit} a minute; retry after ${seconds} s (Retry-After)`,
  redisFailed: 'Rate limiting is unavailable (Redis failed); letting requests through',
  redisRestored: 'Rate limiting is back',
} as const;

const SCOPE_NAMES: Record<RateLimitDecision['scope'], string> = {
  ip: 'limit per client address',
  user: 'limit per user',
  tenant: "organisation's limit",
};

/**
 * The kit's rate limits (docs/security.md, "API security"): per client address on every request but the
 * probes and /metrics (a Fastify onRequest hook, before routing and authentication), then per user and per tenant
 * once the caller is authenticated (RateLimitGuard). Counters live in Redis, so every replica of every service
 * counts into the same windows. When Redis fails, requests are let through (and counted in
 * `rate_limit_errors_total`): limits protect the platform, they must not take it down.
 */
@Injectable()
export class RateLimitService {
  private readonly logger = new Logger(RateLimitService.name);
  private readonly limiter: RateLimiter;
  private readonly limited: Counter<'scope'>;
  private readonly errors: Counter;
  private failing = false;
  private readonly limits: EffectiveRateLimits;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(SERVICE_CONFIG) private readonly config: KitConfig,
    metrics: MetricsService,
    private readonly tenantLimits: TenantLimitsReader,
  ) {
    this.limits = effectiveRateLimits(config);
    this.limiter = new RateLimiter(redis);
    this.limited = new Counter({
      name: 'rate_limited_requests_total',
      help: 'Requests refused with 429, by the limit that refused them (ip, user, tenant)',
      labelNames: ['scope'] as const,
      registers: [metrics.registry],
    });
    this.errors = new Counter({
      name: 'rate_limit_errors_total',
      help: 'Rate-limit checks that failed (Redis unavailable) and let the request through',
      registers: [metrics.registry],
    });
  }

  /** The per-address check. */
  checkAddress(ip: string): Promise<RateLimitDecision | undefined> {
    return this.consume([{ scope: 'ip', key: `${this.config.REDIS_KEY_PREFIX}rl:ip:${ip}`, limit: this.limits.ipPerMinute }]);
  }

  /** The per-user and per-tenant checks, in one round trip. */
  async checkUser(user: AuthUser): Promise<RateLimitDecision | undefined> {
    const limits = await this.tenantLimits.read(user.tenantId);
    const tenantLimit = limits.apiRequestsPerMinute ?? this.limits.tenantPerMinute;
    return this.consume([
      { scope: 'user', key: `t:${user.tenantId}:rl:user:${user.userId}`, limit: this.limits.userPerMinute },
      { scope: 'tenant', key: `t:${user.tenantId}:rl:tenant`, limit: tenantLimit },
    ]);
  }

  /** Sets the RateLimit-* headers (and Retry-After when refused) of `decision` on the reply. */
  static applyHeaders(reply: FastifyReply, decision: RateLimitDecision): void {
    void reply.header(RateLimitHeaders.limit, decision.limit);
    void reply.header(RateLimitHeaders.remaining, decision.remaining);
    void reply.header(RateLimitHeaders.reset, decision.resetSeconds);
    if (!decision.allowed) void reply.header(RateLimitHeaders.retryAfter, decision.resetSeconds);
  }

  /** The 429 of a refused decision, in the kit's error shape. */
  static tooManyRequests(decision: RateLimitDecision): AppError {
    return new AppError(429, ErrorCode.TOO_MANY_REQUESTS, RateLimitMessages.tooMany(decision.scope, decision.limit, decision.resetSeconds));
  }

  private async consume(buckets: RateLimitBucket[]): Promise<RateLimitDecision | undefined> {
    try {
      const decision = await this.limiter.consume(buckets);
      if (this.failing) {
        this.failing = false;
        this.logger.log(RateLimitMessages.redisRestored);
      }
      if (decision && !decision.allowed) this.limited.inc({ scope: decision.scope });
      return decision;
    } catch (error) {
      this.errors.inc();
      if (!this.failing) {
        this.failing = true;
        this.logger.warn({ msg: RateLimitMessages.redisFailed, err: error });
      }
      return undefined;
    }
  }
}
