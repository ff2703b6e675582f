import { ensureInfra, stopInfra } from './index';

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'up';
  const log = (msg: string) => process.stderr.write(`[infra] ${msg}\n`);
  switch (command) {
    case 'up': {
      const started = Date.now();
      const e = await ensureInfra(log);
      log(`PostgreSQL, Redis and RabbitMQ ready (${e.mode}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    case 'down':
      stopInfra();
      log('stopped');
      return;
    default:
      throw new Error(`Unknown command "${command}". Use: up | down`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[infra] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
