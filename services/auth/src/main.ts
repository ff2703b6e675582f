import { bootstrapService, type BusShutdownOptions } from '@rallyforge/service-kit';
import { AppModule, attachBus } from './app.module';
import { loadAuthConfig, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  const bus: BusShutdownOptions = {};
  await bootstrapService({
    name: SERVICE_NAME,
    module: AppModule,
    config,
    bus,
    configureApp: (app) => attachBus(app, bus),
  });
}

void main().catch((error: unknown) => {
  // Configuration errors end here (bootstrapService logs its own failures and exits).
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
