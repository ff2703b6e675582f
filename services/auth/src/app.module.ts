import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, BusModule, createBusServer, OutboxPublisher } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule, type BusShutdownOptions } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import { SERVICE_NAME, type AuthConfig } from './config';
import { AuthBusController } from './controllers/auth-bus.controller';
import { AuditModule } from './audit/audit.module';
import { AuthController } from './controllers/auth.controller';
import { AUTH_DATABASE } from './database';
import { LimitsModule } from './limits/limits.module';
import { EventRepository } from './repositories/event.repository';
import { InvitationRepository } from './repositories/invitation.repository';
import { LoginAttemptRepository } from './repositories/login-attempt.repository';
import { OrganisationRepository } from './repositories/organisation.repository';
import { RefreshTokenRepository } from './repositories/refresh-token.repository';
import { SubscriptionRepository } from './repositories/subscription.repository';
import { UserRepository } from './repositories/user.repository';
import { AuthService } from './services/auth.service';
import { OrganisationLifecycleRepository } from './repositories/organisation-lifecycle.repository';
import { OrganisationLifecycleService } from './services/organisation-lifecycle.service';
import { OrganisationService } from './services/organisation.service';
import { PasswordHasherService } from './services/password-hasher.service';
import { SubscriptionService } from './services/subscription.service';
import { TokenService } from './services/token.service';
import { SigningKeyService } from './services/signing-key.service';
import { SigningKeysModule } from './signing-keys.module';

@Module({
  imports: [
    ServiceKitModule.forRoot({
      name: SERVICE_NAME,
      database: AUTH_DATABASE,
      redis: true,
      audit: { outbox: OutboxPublisher },
      auth: {
        keyResolver: {
          imports: [SigningKeysModule],
          inject: [SigningKeyService],
          useFactory: (keys: SigningKeyService) => keys.resolveKey,
        },
      },
    }),
    BusModule.forRootAsync({
      inject: [SERVICE_CONFIG, DataSource],
      useFactory: (config: AuthConfig, dataSource: DataSource) => ({ service: SERVICE_NAME, url: config.AMQP_URL, dataSource }),
    }),
    SigningKeysModule,
    AuditModule,
    LimitsModule,
  ],
  controllers: [AuthController, AuthBusController],
  providers: [
    OrganisationRepository,
    UserRepository,
    RefreshTokenRepository,
    InvitationRepository,
    SubscriptionRepository,
    LoginAttemptRepository,
    EventRepository,
    PasswordHasherService,
    TokenService,
    AuthService,
    OrganisationService,
    SubscriptionService,
    OrganisationLifecycleRepository,
    OrganisationLifecycleService,
  ],
})
export class AppModule {}

/** The bus consumer (sharing the app's connection and DataSource, so handlers run in inbox transactions) and its health. */
export function busOf(app: NestFastifyApplication): BusShutdownOptions {
  const connection = app.get(BusConnection);
  return { server: createBusServer(app), isHealthy: () => connection.isHealthy() };
}
