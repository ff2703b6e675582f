import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, createBusServer } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions, type BusShutdownOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import { CLAIMS_SERVICE_NAME } from './claims.constants';
import type { ClaimsConfig } from './config';

/**
 * Starts the claims service: HTTP API, bus consumer (document.uploaded, inbox-transactional) and outbox relay.
 * Used by main.ts and by the integration tests, so both run the same wiring.
 */
export function startClaimsService(
  config: ClaimsConfig,
  options: Pick<BootstrapServiceOptions<ClaimsConfig>, 'handleSignals' | 'logger'> = {},
): Promise<NestFastifyApplication> {
  // WORKAROUND (service-kit): bootstrapService takes `bus.server` before the app exists, but the BusServer must
  // share BusModule's connection and the app's DataSource (createBusServer(app)). bootstrapService reads `bus`
  // only after configureApp has run, so it is filled in there. Needed: `bus` as a factory of the created app.
  const bus: BusShutdownOptions = {};
  return bootstrapService({
    name: CLAIMS_SERVICE_NAME,
    module: AppModule,
    config,
    bus,
    ...options,
    configureApp: (app) => {
      const server = createBusServer(app);
      const connection = app.get(BusConnection);
      bus.server = server;
      bus.isHealthy = () => connection.isHealthy();
    },
  });
}
