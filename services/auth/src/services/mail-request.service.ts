import { Injectable } from '@nestjs/common';
import { Events, type Payload } from '@rallyforge/contracts';
import { InjectConfig } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { keyEncryptionKeyFrom, type AuthConfig } from '../config';
import { EventRepository } from '../repositories/event.repository';
import { DEVELOPMENT_KEY_ENCRYPTION_KEY } from '../utils/key-encryption';
import type { MailTemplate } from '../utils/mail-templates';
import { TokenSealer } from '../utils/token-seal';
import { AUTH_SERVICE_ACTOR } from './organisation-lifecycle.service';

export type EmailRequestedEvent = Payload<typeof Events.emailRequested>;

export interface MailRequest {
  tenantId: string;
  template: MailTemplate;
  to: string;
  /** The single-use token the e-mail carries (sealed before it is written). */
  token: string;
  expiresAt: Date;
  role?: string;
}

/** The sealer for e-mail tokens, keyed like the signing keys (AUTH_KEY_ENCRYPTION_KEY; the development key in dev/test). */
export function tokenSealerFor(config: AuthConfig): TokenSealer {
  return new TokenSealer(keyEncryptionKeyFrom(config) ?? DEVELOPMENT_KEY_ENCRYPTION_KEY);
}

/**
 * Asks for an e-mail: writes `auth.email.requested` into the outbox in the caller's transaction, so the e-mail goes
 * out if and only if the change that needs it (the token, the invitation) commits. `MailDeliveryService` sends it.
 */
@Injectable()
export class MailRequestService {
  private readonly sealer: TokenSealer;

  constructor(
    private readonly events: EventRepository,
    @InjectConfig() config: AuthConfig,
  ) {
    this.sealer = tokenSealerFor(config);
  }

  async request(manager: EntityManager, mail: MailRequest): Promise<void> {
    const sealedToken = this.sealer.seal(mail.token, { tenantId: mail.tenantId, template: mail.template, to: mail.to });
    await this.events.publish(
      manager,
      Events.emailRequested,
      {
        template: mail.template,
        to: mail.to,
        sealedToken,
        expiresAt: mail.expiresAt.toISOString(),
        ...(mail.role ? { role: mail.role } : {}),
      },
      { tenantId: mail.tenantId, actor: AUTH_SERVICE_ACTOR },
    );
  }
}
