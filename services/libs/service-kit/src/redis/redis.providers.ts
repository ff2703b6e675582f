import { Inject, Injectable, Logger, OnApplicationShutdown, type Provider } from '@nestjs/common';
import Redis from 'ioredis';
import { SERVICE_CONFIG } from '../config/service-config.module';
import type { KitConfig } from '../config/base-config.schema';
import { SERVICE_KIT_OPTIONS, type ServiceKitModuleOptions } from '../service-kit.options';
import {
  REDIS,
  REDIS_CONNECT_TIMEOUT_MS,
  REDIS_MAX_RETRIES_PER_REQUEST,
  REDIS_QUIT_TIMEOUT_MS,
  REDIS_RECONNECT_MAX_DELAY_MS,
  REDIS_RECONNECT_STEP_MS,
} from './redis.constants';

const logger = new Logger('Redis');

/** Creates the client; it connects in the background, so a Redis outage at boot does not stop the service. */
export function createRedisClient(url: string, connectionName: string): Redis {
  const client = new Redis(url, {
    connectionName,
    maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * REDIS_RECONNECT_STEP_MS, REDIS_RECONNECT_MAX_DELAY_MS),
  });
  let reported = false;
  // Without a listener ioredis prints every failed reconnect; log the first error of each outage instead.
  client.on('error', (error: Error) => {
    if (!reported) {
      reported = true;
      logger.warn(`Redis connection failed: ${error.message}; reconnecting`);
    }
  });
  client.on('ready', () => {
    if (reported) {
      logger.log('Redis connection restored');
    }
    reported = false;
  });
  return client;
}

export const redisClientProvider: Provider = {
  provide: REDIS,
  inject: [SERVICE_CONFIG, SERVICE_KIT_OPTIONS],
  useFactory: (config: KitConfig, options: ServiceKitModuleOptions) => {
    if (!config.REDIS_URL) {
      throw new Error(
        'REDIS_URL is not configured but ServiceKitModule.forRoot({ redis: true }) needs it: add it to the environment or drop redis: true',
      );
    }
    return createRedisClient(config.REDIS_URL, options.name);
  },
};

/** Closes the client after HTTP has drained (onApplicationShutdown runs after the server closed). */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status === 'end') {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.quit(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, REDIS_QUIT_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // already closing or unreachable: disconnect below
    } finally {
      clearTimeout(timer);
      this.redis.disconnect();
    }
  }
}
