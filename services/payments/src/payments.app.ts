import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, createBusServer } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import type { PaymentsConfig } from './config';
import { SERVICE_NAME } from './payments.constants';

/**
 * Starts the payments service: HTTP API, the outbox relay and the bus consumer (GDPR and organisation lifecycle
 * commands and events from auth, in inbox transactions). Used by main.ts and by the
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
    // Same connection, service name and DataSource (inbox) as BusModule.
    bus: (app) => {
      const connection = app.get(BusConnection);
      return { server: createBusServer(app), isHealthy: () => connection.isHealthy() };
    },
  });
}
