import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import type { DocumentsConfig } from './config';
import { DOCUMENTS_SERVICE_NAME, MULTIPART_LIMITS } from './documents.constants';

/**
 * Starts the documents service (HTTP API and outbox relay; it consumes nothing from the bus).
 * Used by main.ts and by the integration tests, so both run the same wiring.
 */
export function startDocumentsService(
  config: DocumentsConfig,
  options: Pick<BootstrapServiceOptions<DocumentsConfig>, 'handleSignals' | 'logger'> = {},
): Promise<NestFastifyApplication> {
  return bootstrapService({
    name: DOCUMENTS_SERVICE_NAME,
    module: AppModule,
    config,
    ...options,
    // No consumer: the bus connection serves the outbox relay; its state is part of readiness.
    bus: (app) => {
      const connection = app.get(BusConnection);
      return { isHealthy: () => connection.isHealthy() };
    },
    configureApp: async (app) => {
      await app.register(multipart as unknown as Parameters<NestFastifyApplication['register']>[0], {
        // One byte over the limit is let through so ContentSniffer (not a silent truncation) rejects it: 413.
        limits: { ...MULTIPART_LIMITS, fileSize: config.UPLOAD_MAX_BYTES + 1 },
        throwFileSizeLimit: false,
        // Browsers send UTF-8 file names in the plain filename parameter; busboy would read them as latin1.
        defParamCharset: 'utf8',
      });
    },
  });
}
