import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusConnection, BusModule, createBusServer, OutboxPublisher } from '@rallyforge/bus';
import { SERVICE_CONFIG, ServiceKitModule, type BusShutdownOptions } from '@rallyforge/service-kit';
import { DataSource } from 'typeorm';
import { SERVICE_NAME, type AuthConfig } from './config';
import { AuthBusController } from './controllers/auth-bus.controller';
import { AuditModule } from './audit/audit.module';
import { AuthController } from './controllers/auth.controller';
import { GdprBusController } from './controllers/gdpr-bus.controller';
import { GdprController } from './controllers/gdpr.controller';
import { AUTH_DATABASE } from './database';
import { LimitsModule } from './limits/limits.module';
import { SmtpMailer } from './clients/smtp-mailer';
import { InvitationsController } from './controllers/invitations.controller';
import { MailBusController } from './controllers/mail-bus.controller';
import { MailDeliveryRepository } from './repositories/mail-delivery.repository';
import { MailThrottleRepository } from './repositories/mail-throttle.repository';
import { UserTokenRepository } from './repositories/user-token.repository';
import { EmailVerificationService } from './services/email-verification.service';
import { InvitationService } from './services/invitation.service';
import { MailDeliveryService } from './services/mail-delivery.service';
import { MailRequestService } from './services/mail-request.service';
import { PasswordResetService } from './services/password-reset.service';
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
import { GdprJobRepository } from './repositories/gdpr-job.repository';
import { AuthUserDataRepository } from './repositories/user-data.repository';
import { GdprService } from './services/gdpr.service';
import { OrganisationService } from './services/organisation.service';
import { PasswordHasherService } from './services/password-hasher.service';
import { SubscriptionService } from './services/subscription.service';
import { TokenService } from './services/token.service';
import { SigningKeyService } from './services/signing-key.service';
import { SigningKeysModule } from './signing-keys.module';
import { AccountSecurityController } from './controllers/account-security.controller';
import { ClientInfoResolver } from './controllers/client-info.resolver';
import { LoginHistoryRepository } from './repositories/login-history.repository';
import { LoginRateLimitRepository } from './repositories/login-rate-limit.repository';
import { MfaChallengeRepository } from './repositories/mfa-challenge.repository';
import { SessionRepository } from './repositories/session.repository';
import { UserMfaRepository } from './repositories/user-mfa.repository';
import { LoginHistoryService } from './services/login-history.service';
import { LoginProtectionService } from './services/login-protection.service';
import { SecurityEventsService } from './services/security-events.service';
import { SessionService } from './services/session.service';
import { TwoFactorService } from './services/two-factor.service';

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
  controllers: [AuthController, AuthBusController, InvitationsController, MailBusController, GdprController, GdprBusController, AccountSecurityController],
  providers: [
    // Two-factor authentication, sessions, login history, login rate limits.
    ClientInfoResolver,
    UserMfaRepository,
    MfaChallengeRepository,
    SessionRepository,
    LoginHistoryRepository,
    LoginRateLimitRepository,
    SecurityEventsService,
    LoginHistoryService,
    LoginProtectionService,
    TwoFactorService,
    SessionService,
    // E-mail verification, password reset, invitations, and e-mail through the outbox to SMTP.
    UserTokenRepository,
    MailDeliveryRepository,
    MailThrottleRepository,
    SmtpMailer,
    MailRequestService,
    MailDeliveryService,
    EmailVerificationService,
    PasswordResetService,
    InvitationService,
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
    GdprJobRepository,
    AuthUserDataRepository,
    GdprService,
  ],
})
export class AppModule {}

/** The bus consumer (sharing the app's connection and DataSource, so handlers run in inbox transactions) and its health. */
export function busOf(app: NestFastifyApplication): BusShutdownOptions {
  const connection = app.get(BusConnection);
  return { server: createBusServer(app), isHealthy: () => connection.isHealthy() };
}
