import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { MetricsService } from '../metrics/metrics.service';
import { SERVICE_KIT_OPTIONS, type ServiceKitModuleOptions } from '../service-kit.options';
import { REDIS } from './redis.constants';

/**
 * A JSON cache in Redis that counts `cache_requests_total{result="hit|miss"}`. Keys are prefixed with the service
 * name, so services sharing a Redis cannot collide; callers put the tenant in the key themselves. A Redis failure
 * never fails the caller: a read becomes a miss, a write is skipped (both counted in `cache_errors_total`).
 */
@Injectable()
export class CacheService {
  private readonly logger = new Logger(CacheService.name);
  private readonly prefix: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly metrics: MetricsService,
    @Inject(SERVICE_KIT_OPTIONS) options: ServiceKitModuleOptions,
  ) {
    this.prefix = `${options.name}:`;
  }

  async get<T>(key: string): Promise<T | undefined> {
    let raw: string | null;
    try {
      raw = await this.redis.get(this.prefix + key);
    } catch (error) {
      this.failed('read', key, error);
      this.metrics.cacheRequests.inc({ result: 'miss' });
      return undefined;
    }
    this.metrics.cacheRequests.inc({ result: raw === null ? 'miss' : 'hit' });
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, JSON.stringify(value), 'EX', ttlSeconds);
    } catch (error) {
      this.failed('write', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.redis.del(this.prefix + key);
    } catch (error) {
      this.failed('delete', key, error);
    }
  }

  /** Returns the cached value, or loads, caches and returns it. */
  async getOrLoad<T>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T> {
    const cached = await this.get<T>(key);
    if (cached !== undefined) {
      return cached;
    }
    const value = await load();
    await this.set(key, value, ttlSeconds);
    return value;
  }

  private failed(operation: string, key: string, error: unknown): void {
    this.metrics.cacheErrors.inc();
    this.logger.warn(`Cache ${operation} of "${key}" failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
