import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, BusServer, createBusServer } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import type { RealtimeConfig } from './config';
import { SERVICE_NAME } from './realtime.constants';

const busServers = new WeakMap<NestFastifyApplication, BusServer>();

/** The bus consumer of an app started by `startRealtimeService` (tests stop one instance's consumer with it). */
export function busServerOf(app: NestFastifyApplication): BusServer {
  const server = busServers.get(app);
  if (!server) throw new Error('This app was not started by startRealtimeService');
  return server;
}

/**
 * Starts the realtime service: WebSocket endpoint /ws, probes and metrics on the HTTP port, and the bus consumer
 * of `rf.realtime`. Used by main.ts and by the integration tests, so both run the same wiring.
 */
export function startRealtimeService(
  config: RealtimeConfig,
  options: Pick<BootstrapServiceOptions<RealtimeConfig>, 'handleSignals' | 'logger'> = {},
): Promise<NestFastifyApplication> {
  let server: BusServer | undefined;
  const started = bootstrapService({
    name: SERVICE_NAME,
    module: AppModule,
    config,
    ...options,
    bus: (app) => {
      // No DataSource, so no inbox: a redelivered event may reach a socket twice; clients dedupe by event id.
      server = createBusServer(app);
      const connection = app.get(BusConnection);
      return { server, isHealthy: () => connection.isHealthy() };
    },
  });
  return started.then((app) => {
    if (server) busServers.set(app, server);
    return app;
  });
}
