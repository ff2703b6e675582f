import { Module } from '@nestjs/common';
import { BusModule, OutboxPublisher } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import type { DocumentsConfig } from './config';
import { DocumentsController } from './controllers/documents.controller';
import { UserDataBusController } from './controllers/user-data-bus.controller';
import { DOCUMENTS_SERVICE_NAME } from './documents.constants';
import { DOCUMENTS_ENTITIES } from './entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from './migrations/documents-migrations';
import { DocumentsRepository } from './repositories/documents.repository';
import { storageDriverProvider } from './repositories/storage.providers';
import { DocumentsService } from './services/documents.service';
import { DocumentsUserDataRepository } from './repositories/user-data.repository';
import { DocumentsUserDataService } from './services/user-data.service';

/**
 * The documents service: produces `document.uploaded` through the outbox; consumes only auth's GDPR and organisation
 * lifecycle messages.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({
      name: DOCUMENTS_SERVICE_NAME,
      database: { entities: DOCUMENTS_ENTITIES, migrations: DOCUMENTS_MIGRATIONS },
      // Redis: the API rate limits and the tenants' limits; audit: uploads, downloads and refusals through the outbox.
      redis: true,
      audit: { outbox: OutboxPublisher },
    }),
    BusModule.forRootAsync({
      inject: [SERVICE_CONFIG, DataSource],
      useFactory: (config: DocumentsConfig, dataSource: DataSource) => ({
        service: DOCUMENTS_SERVICE_NAME,
        url: config.AMQP_URL,
        dataSource,
      }),
    }),
  ],
  controllers: [DocumentsController, UserDataBusController],
  providers: [DocumentsRepository, DocumentsService, storageDriverProvider, DocumentsUserDataRepository, DocumentsUserDataService],
})
export class AppModule {}
