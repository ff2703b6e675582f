import { Module } from '@nestjs/common';
import { BusModule } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import type { DocumentsConfig } from './config';
import { DocumentsController } from './controllers/documents.controller';
import { DOCUMENTS_SERVICE_NAME } from './documents.constants';
import { DOCUMENTS_ENTITIES } from './entities/documents-entities';
import { DOCUMENTS_MIGRATIONS } from './migrations/documents-migrations';
import { DocumentsRepository } from './repositories/documents.repository';
import { storageDriverProvider } from './repositories/storage.providers';
import { DocumentsService } from './services/documents.service';

/** The documents service: HTTP only on the consuming side; it produces `document.uploaded` through the outbox. */
@Module({
  imports: [
    ServiceKitModule.forRoot({
      name: DOCUMENTS_SERVICE_NAME,
      database: { entities: DOCUMENTS_ENTITIES, migrations: DOCUMENTS_MIGRATIONS },
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
  controllers: [DocumentsController],
  providers: [DocumentsRepository, DocumentsService, storageDriverProvider],
})
export class AppModule {}
