import { DynamicModule, Global, Inject, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { createLogger } from '../logging/logger';
import type { KitConfig } from './base-config.schema';

/** The validated configuration of the running service (its own extended type), injectable everywhere. */
export const SERVICE_CONFIG = Symbol.for('rallyforge.service-kit.config');
/** The service's root pino logger (use `new Logger(X.name)` from @nestjs/common in ordinary classes). */
export const ROOT_LOGGER = Symbol.for('rallyforge.service-kit.logger');

/** `constructor(@InjectConfig() private readonly config: ClaimsConfig)` */
export const InjectConfig = (): ParameterDecorator => Inject(SERVICE_CONFIG);

/**
 * Makes the configuration loaded in main.ts (and the root logger) injectable. `bootstrapService` imports it
 * around the service's module; tests that build a module by hand import it themselves.
 */
@Global()
@Module({})
export class ServiceConfigModule {
  static forRoot<C extends KitConfig>(config: C, logger?: Logger): DynamicModule {
    return {
      module: ServiceConfigModule,
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        {
          provide: ROOT_LOGGER,
          useValue: logger ?? createLogger({ service: config.SERVICE_NAME ?? 'rallyforge', level: config.LOG_LEVEL }),
        },
      ],
      exports: [SERVICE_CONFIG, ROOT_LOGGER],
    };
  }
}
