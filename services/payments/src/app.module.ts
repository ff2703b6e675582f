import { Module } from '@nestjs/common';
import { BusModule } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import type { PaymentsConfig } from './config';
import { PaymentsController } from './controllers/payments.controller';
import { UserDataBusController } from './controllers/user-data-bus.controller';
import { PAYMENTS_ENTITIES } from './entities/payments-entities';
import { PAYMENTS_MIGRATIONS } from './migrations/payments-migrations';
import { SERVICE_NAME } from './payments.constants';
import { paymentProviderProvider } from './providers/payment-provider.factory';
import { PaymentRepository } from './repositories/payment.repository';
import { PlanRepository } from './repositories/plan.repository';
import { PaymentsService } from './services/payments.service';
import { PaymentsUserDataRepository } from './repositories/user-data.repository';
import { PaymentsUserDataService } from './services/user-data.service';

/**
 * Payments keeps its state in PostgreSQL only (idempotency included). Redis holds nothing of its own: it is there for
 * the kit's rate limits (60 requests a minute per address by default), which need one counter for every replica.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({
      name: SERVICE_NAME,
      database: { entities: PAYMENTS_ENTITIES, migrations: PAYMENTS_MIGRATIONS },
      redis: true,
    }),
    // Outbox relay (payment.succeeded, user.data.erased) and consumer (GDPR and organisation lifecycle, from auth).
    BusModule.forRootAsync({
      inject: [SERVICE_CONFIG, DataSource],
      useFactory: (config: PaymentsConfig, dataSource: DataSource) => ({ service: SERVICE_NAME, url: config.AMQP_URL, dataSource }),
    }),
  ],
  controllers: [PaymentsController, UserDataBusController],
  providers: [PaymentsService, PaymentRepository, PlanRepository, paymentProviderProvider, PaymentsUserDataRepository, PaymentsUserDataService],
})
export class AppModule {}
