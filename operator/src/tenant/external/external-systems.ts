import type { Logger } from '../../controller-core/logger';
import type { ExternalLayer } from '../layers';
import { loadExternalSystemsConfig, type ExternalSystemsConfig } from './external-systems.config';
import { PostgresProvisioner } from './postgres.provisioner';
import { RabbitMqProvisioner } from './rabbitmq.provisioner';
import { RedisProvisioner } from './redis.provisioner';

export interface ExternalSystemsOptions {
  logger?: Logger;
  /** How long one shared-tier check serves every shared tenant. @default 10000 */
  sharedCheckTtlMs?: number;
}

/**
 * The three external layers of a tenant, built from one configuration, in the order the reconciler provisions
 * them. `close()` ends the pooled admin connections (call it on shutdown).
 */
export class ExternalSystems {
  readonly postgres: PostgresProvisioner;
  readonly rabbitmq: RabbitMqProvisioner;
  readonly redis: RedisProvisioner;

  /** From the environment (see EXTERNAL_SYSTEMS_ENV); throws ExternalSystemsConfigError listing every bad variable. */
  static fromEnv(env: Record<string, string | undefined> = process.env, options: ExternalSystemsOptions = {}): ExternalSystems {
    return ExternalSystems.create(loadExternalSystemsConfig(env), options);
  }

  static create(config: ExternalSystemsConfig, options: ExternalSystemsOptions = {}): ExternalSystems {
    return new ExternalSystems(config, options);
  }

  private constructor(config: ExternalSystemsConfig, options: ExternalSystemsOptions) {
    const common = {
      connectTimeoutMs: config.connectTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      sharedCheckTtlMs: options.sharedCheckTtlMs,
    };
    this.postgres = PostgresProvisioner.create({ ...config.postgres, ...common, logger: options.logger });
    this.rabbitmq = RabbitMqProvisioner.create({ ...config.rabbitmq, ...common, logger: options.logger });
    this.redis = RedisProvisioner.create({ ...config.redis, ...common, logger: options.logger });
  }

  /** The layers for TenantReconcilerOptions.external. */
  get layers(): readonly ExternalLayer[] {
    return [this.postgres, this.rabbitmq, this.redis];
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.layers.map((layer) => layer.close()));
  }
}

/** The three external layers for TenantReconcilerOptions.external (each closes its own connections). */
export function createExternalLayers(config: ExternalSystemsConfig, options: ExternalSystemsOptions = {}): ExternalLayer[] {
  return [...ExternalSystems.create(config, options).layers];
}
