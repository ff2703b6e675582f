import { Module } from '@nestjs/common';
import { BusModule, OutboxPublisher } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import { CLAIMS_SERVICE_NAME } from './claims.constants';
import type { ClaimsConfig } from './config';
import { ClaimsController } from './controllers/claims.controller';
import { DocumentEventsController } from './controllers/document-events.controller';
import { UserDataBusController } from './controllers/user-data-bus.controller';
import { CLAIMS_ENTITIES } from './entities/claims-entities';
import { CLAIMS_MIGRATIONS } from './migrations/claims-migrations';
import { ClaimsRepository } from './repositories/claims.repository';
import { ClaimsService } from './services/claims.service';
import { EvidenceService } from './services/evidence.service';
import { ClaimsUserDataRepository } from './repositories/user-data.repository';
import { ClaimsUserDataService } from './services/user-data.service';

@Module({
  imports: [
    ServiceKitModule.forRoot({
      name: CLAIMS_SERVICE_NAME,
      database: { entities: CLAIMS_ENTITIES, migrations: CLAIMS_MIGRATIONS },
      // Redis: the API rate limits; audit: claim changes and refusals go to auth's audit log through the outbox.
      redis: true,
      audit: { outbox: OutboxPublisher },
    }),
    BusModule.forRootAsync({
      inject: [SERVICE_CONFIG, DataSource],
      useFactory: (config: ClaimsConfig, dataSource: DataSource) => ({
        service: CLAIMS_SERVICE_NAME,
        url: config.AMQP_URL,
        dataSource,
      }),
    }),
  ],
  controllers: [ClaimsController, DocumentEventsController, UserDataBusController],
  providers: [ClaimsRepository, ClaimsService, EvidenceService, ClaimsUserDataRepository, ClaimsUserDataService],
})
export class AppModule {}
