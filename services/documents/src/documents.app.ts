import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, createBusServer } from '@rallyforge/bus';
import { bootstrapService, type BootstrapServiceOptions } from '@rallyforge/service-kit';
import { AppModule } from './app.module';
import type { DocumentsConfig } from './config';
import { DOCUMENTS_SERVICE_NAME, MULTIPART_LIMITS } from './documents.constants';

/**
 * Starts the documents service (HTTP API, outbox relay, and a bus consumer for auth's GDPR and lifecycle messages).
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
    // Same connection, service name and DataSource (inbox) as BusModule; its state is part of readiness.
    bus: (app) => {
      const connection = app.get(BusConnection);
      return { server: createBusServer(app), isHealthy: () => connection.isHealthy() };
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
