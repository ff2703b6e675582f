import { bootstrapService } from '@rallyforge/service-kit';
import { AppModule, busOf } from './app.module';
import { loadAuthConfig, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = loadAuthConfig();
  await bootstrapService({ name: SERVICE_NAME, module: AppModule, config, bus: busOf });
}

void main().catch((error: unknown) => {
  // Configuration errors end here (bootstrapService logs its own start failures and exits).
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
