import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions, type BusShutdownOptions } from '@rallyforge/service-kit';
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
  // WORKAROUND (service-kit): `bus` is given before the app exists, but the connection lives in BusModule inside
  // the app. bootstrapService reads `bus` only after configureApp has run, so it is filled in there.
  // Needed from the kit: `bus` as a factory of the created app.
  const bus: BusShutdownOptions = {};
  return bootstrapService({
    name: SERVICE_NAME,
    module: AppModule,
    config,
    bus,
    ...options,
    configureApp: (app) => {
      const connection = app.get(BusConnection);
      bus.isHealthy = () => connection.isHealthy();
    },
  });
}
