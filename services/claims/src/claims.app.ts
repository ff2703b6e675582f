import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, createBusServer } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import { CLAIMS_SERVICE_NAME } from './claims.constants';
import type { ClaimsConfig } from './config';

/**
 * Starts the claims service: HTTP API, bus consumer (document.uploaded, in inbox transactions) and outbox relay.
 * Used by main.ts and by the integration tests, so both run the same wiring.
 */
export function startClaimsService(
  config: ClaimsConfig,
  options: Pick<BootstrapServiceOptions<ClaimsConfig>, 'handleSignals' | 'logger'> = {},
): Promise<NestFastifyApplication> {
  return bootstrapService({
    name: CLAIMS_SERVICE_NAME,
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
