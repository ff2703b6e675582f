import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import type { PaymentsConfig } from './config';
import { SERVICE_NAME } from './payments.constants';

/**
 * Starts the payments service: HTTP API and the outbox relay (no bus consumer). Used by main.ts and by the
 * integration tests, so both run the same wiring.
 */
export function startPaymentsService(
  config: PaymentsConfig,
  options: Pick<BootstrapServiceOptions<PaymentsConfig>, 'handleSignals' | 'logger'> = {},
): Promise<NestFastifyApplication> {
  return bootstrapService({
    name: SERVICE_NAME,
    module: AppModule,
    config,
    ...options,
    // Payments consumes nothing: no BusServer, only the connection's health (the outbox relay publishes on it).
    bus: (app) => {
      const connection = app.get(BusConnection);
      return { isHealthy: () => connection.isHealthy() };
    },
  });
}
