import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { accessTokenVerifierProvider, keyResolverProvider } from './auth/auth.providers';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { PermissionGuard } from './auth/permission.guard';
import { AuditTrail, type AuditOutbox } from './audit/audit-trail';
import { RateLimitGuard } from './rate-limit/rate-limit.guard';
import { RateLimitService } from './rate-limit/rate-limit.service';
import { TenantLimitsReader } from './rate-limit/tenant-limits';
import type Redis from 'ioredis';
import type { KitConfig } from './config/base-config.schema';
import { ROOT_LOGGER, SERVICE_CONFIG } from './config/service-config.module';
import { DatabasePoolMetrics } from './database/database-pool.metrics';
import { postgresDataSourceOptions } from './database/data-source-options';
import { TypeOrmPinoLogger } from './database/typeorm-pino.logger';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { ServiceLifecycle } from './health/service-lifecycle';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { CacheService } from './redis/cache.service';
import { REDIS } from './redis/redis.constants';
import { RedisLifecycle, redisClientProvider } from './redis/redis.providers';
import {
  DATABASE_CONNECT_RETRY_ATTEMPTS,
  DATABASE_CONNECT_RETRY_DELAY_MS,
  SERVICE_KIT_OPTIONS,
  type ServiceKitModuleOptions,
} from './service-kit.options';

/**
 * Everything a RallyForge service shares, as one global module: health probes, /metrics, the global JWT guard,
 * and optionally PostgreSQL (TypeORM) and Redis. Needs SERVICE_CONFIG, which bootstrapService provides.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: SERVICE_KIT_OPTIONS, useValue: options },
      ServiceLifecycle,
      MetricsService,
      HealthService,
      keyResolverProvider(options.auth?.keyResolver),
      accessTokenVerifierProvider,
      JwtAuthGuard,
      // In this order: authenticate, take the request from its user's and tenant's budgets; then @RequirePermission's
      // own guard (HTTP and bus) checks the permission.
      { provide: APP_GUARD, useExisting: JwtAuthGuard },
      RateLimitGuard,
      { provide: APP_GUARD, useExisting: RateLimitGuard },
      PermissionGuard,
    ];
    const exports: DynamicModule['exports'] = [
      SERVICE_KIT_OPTIONS,
      ServiceLifecycle,
      MetricsService,
      HealthService,
      AccessTokenVerifier,
      PermissionGuard,
    ];
    const imports: DynamicModule['imports'] = [
      TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ...(options.auth?.keyResolver?.imports ?? []),
    ];

    if (options.database) {
      const database = options.database;
      imports.push(
        TypeOrmModule.forRootAsync({
          inject: [SERVICE_CONFIG, ROOT_LOGGER],
          useFactory: (config: KitConfig, logger: Logger) => {
            if (!config.DATABASE_URL) {
              throw new Error(
                `DATABASE_URL is not configured but ServiceKitModule.forRoot({ name: '${options.name}', database }) needs it`,
              );
            }
            return {
              ...postgresDataSourceOptions({ ...database, url: config.DATABASE_URL, applicationName: options.name }),
              logger: new TypeOrmPinoLogger(logger.child({ context: 'TypeORM' })),
              logging: ['error', 'warn', 'migration'],
              retryAttempts: DATABASE_CONNECT_RETRY_ATTEMPTS,
              retryDelay: DATABASE_CONNECT_RETRY_DELAY_MS,
            };
          },
        }),
      );
      providers.push(DatabasePoolMetrics);
    }

    if (options.redis) {
      providers.push(redisClientProvider, RedisLifecycle, CacheService);
      exports.push(REDIS, CacheService);
      providers.push({ provide: TenantLimitsReader, inject: [REDIS], useFactory: (redis: Redis) => new TenantLimitsReader(redis) });
      exports.push(TenantLimitsReader);
      if (options.rateLimit ?? true) {
        providers.push(RateLimitService);
        exports.push(RateLimitService);
      }
    }

    if (options.audit) {
      if (!options.database) {
        throw new Error(`ServiceKitModule.forRoot({ name: '${options.name}', audit }) needs database: the audit trail writes through the outbox`);
      }
      providers.push({
        provide: AuditTrail,
        inject: [options.audit.outbox, getDataSourceToken()],
        useFactory: (outbox: AuditOutbox, dataSource: DataSource) => new AuditTrail(outbox, dataSource, options.name),
      });
      exports.push(AuditTrail);
    }

    return {
      module: ServiceKitModule,
      global: true,
      imports,
      controllers: [HealthController, MetricsController],
      providers,
      exports,
    };
  }
}
