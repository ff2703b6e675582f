import type { InjectionToken } from '@nestjs/common';
import type { KeyResolverOptions } from './auth/auth.providers';
import type { DatabaseOptions } from './database/data-source-options';
import type { ReadinessCheck } from './health/health.service';

export const SERVICE_KIT_OPTIONS = Symbol.for('rallyforge.service-kit.options');

/** TypeORM retries the first connection this often before the service gives up (and Kubernetes restarts it). */
export const DATABASE_CONNECT_RETRY_ATTEMPTS = 10;
export const DATABASE_CONNECT_RETRY_DELAY_MS = 3000;

export interface ServiceKitModuleOptions {
  /** The service name (`claims`): log `service` field, Redis key prefix, pg application_name. */
  name: string;
  /** Gives the service a TypeORM DataSource on DATABASE_URL (injectable as `DataSource`, repositories via TypeOrmModule.forFeature). */
  database?: DatabaseOptions;
  /** Gives the service an ioredis client (`@InjectRedis()`) and CacheService on REDIS_URL. */
  redis?: boolean;
  health?: {
    /** The bus connection's own state (`() => busConnection.isHealthy()`), part of /health/ready. */
    bus?: ReadinessCheck;
  };
  auth?: {
    /** Replaces the remote JWKS (AUTH_JWKS_URL) as the source of verification keys. */
    keyResolver?: KeyResolverOptions;
  };
  /**
   * Gives the service an AuditTrail that writes `audit.recorded` through this outbox (`{ outbox: OutboxPublisher }`
   * of @rallyforge/bus; BusModule must be imported too). Needs `database`.
   */
  audit?: { outbox: InjectionToken };
  /**
   * Rate limits per client address, user and tenant (RateLimitService); on whenever `redis` is, which every
   * service that serves an API has. `false` only for a service with no HTTP API of its own.
   * @default true
   */
  rateLimit?: boolean;
}
