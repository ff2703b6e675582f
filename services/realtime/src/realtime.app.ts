import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, createBusServer } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions, type BusShutdownOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import type { RealtimeConfig } from './config';
import { SERVICE_NAME } from './realtime.constants';

/**
 * Starts the realtime service: WebSocket endpoint /ws, probes and metrics on the HTTP port, and the bus consumer
 * of `rf.realtime`. Used by main.ts and by the integration tests, so both run the same wiring.
 */
export function startRealtimeService(
  config: RealtimeConfig,
  options: Pick<BootstrapServiceOptions<RealtimeConfig>, 'handleSignals' | 'logger'> = {},
): Promise<NestFastifyApplication> {
  // WORKAROUND (service-kit): `bus` is given before the app exists, but the BusServer must share BusModule's
  // connection (createBusServer(app)). bootstrapService reads `bus` only after configureApp has run, so it is
  // filled in there. Needed from the kit: `bus` as a factory of the created app.
  const bus: BusShutdownOptions = {};
  return bootstrapService({
    name: SERVICE_NAME,
    module: AppModule,
    config,
    bus,
    ...options,
    configureApp: (app) => {
      // No DataSource, so no inbox: a redelivered event may reach a socket twice; clients dedupe by event id.
      bus.server = createBusServer(app);
      const connection = app.get(BusConnection);
      bus.isHealthy = () => connection.isHealthy();
    },
  });
}
