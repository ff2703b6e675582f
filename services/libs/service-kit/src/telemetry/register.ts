/**
 * Preloaded with `node -r @rallyforge/service-kit/dist/telemetry/register.js dist/main.js`, so the SDK patches
 * http, pg, ioredis and amqplib before anything requires them (instrumentation only works on modules loaded
 * after it). Imports nothing that loads those modules: only the SDK and the zod-based config.
 */
import { baseConfigSchema } from '../config/base-config.schema';
import { ConfigError, loadConfig } from '../config/load-config';
import { startTelemetry } from './telemetry';
import { shutdownTelemetry } from './telemetry-handle';

const telemetryConfigSchema = baseConfigSchema.pick({
  SERVICE_NAME: true,
  OTEL_TRACES_EXPORTER: true,
  OTEL_EXPORTER_OTLP_ENDPOINT: true,
});

try {
  const config = loadConfig(telemetryConfigSchema);
  startTelemetry({ serviceName: config.SERVICE_NAME ?? 'unknown_service:node', exporter: config.OTEL_TRACES_EXPORTER });
  // Short-lived scripts (dist/migrate.js) end without a signal: flush their spans on the way out. Services flush
  // in their SIGTERM handler (bootstrapService).
  process.once('beforeExit', () => void shutdownTelemetry());
} catch (error) {
  if (!(error instanceof ConfigError)) {
    throw error;
  }
  process.stderr.write(`${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), msg: error.message })}\n`);
  process.exit(1);
}
