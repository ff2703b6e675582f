import { Injectable, Logger } from '@nestjs/common';
import { forbidden, InjectConfig } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { SmtpMailer } from '../clients/smtp-mailer';
import type { AuthConfig } from '../config';
import { MailDeliveryRepository } from '../repositories/mail-delivery.repository';
import { OrganisationRepository } from '../repositories/organisation.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { renderMail } from '../utils/mail-templates';
import type { TokenSealer } from '../utils/token-seal';
import { tokenSealerFor, type EmailRequestedEvent } from './mail-request.service';
import { AUTH_SERVICE_ACTOR } from './organisation-lifecycle.service';
import type { BusCaller } from './organisation.service';

/** Log lines of the mail consumer: never an address, a token or a body. */
export const MailMessages = {
  forbiddenActor: 'Only auth itself may ask auth to send e-mail (auth.email.requested from another sender)',
  sent: 'Sent an e-mail',
  skippedDuplicate: 'Skipped an e-mail that was already sent',
  skippedExpired: 'Skipped an e-mail whose link expired before it could be sent',
  skippedNoOrganisation: 'Skipped an e-mail for an organisation that no longer exists',
  droppedNoSmtp: 'SMTP_URL is not set (development/test only): dropped an e-mail; set SMTP_URL to deliver them',
} as const;

/** A delivery as the bus hands it over: who sent it, for which tenant, and the message id (the idempotency key). */
export interface MailDeliveryCaller extends BusCaller {
  messageId: string;
}

/**
 * The consumer of `auth.email.requested`: opens the sealed token, renders the e-mail and hands it to SMTP. A failure
 * (SMTP down, timeout) throws, so the bus retries with its delays and finally parks the message (with the token
 * still sealed). Sent messages are recorded in a transaction of their own, so a re-run never sends twice.
 */
@Injectable()
export class MailDeliveryService {
  private readonly logger = new Logger(MailDeliveryService.name);
  private readonly sealer: TokenSealer;
  private readonly linkBaseUrl: string;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly organisations: OrganisationRepository,
    private readonly deliveries: MailDeliveryRepository,
    private readonly mailer: SmtpMailer,
    @InjectConfig() config: AuthConfig,
  ) {
    this.sealer = tokenSealerFor(config);
    this.linkBaseUrl = config.MAIL_LINK_BASE_URL;
  }

  async deliver(manager: EntityManager, caller: MailDeliveryCaller, request: EmailRequestedEvent): Promise<void> {
    if (caller.actor?.kind !== 'service' || caller.actor.id !== AUTH_SERVICE_ACTOR.id) {
      // A refusal (403): parked at once, not retried for a minute (retrying cannot change the sender).
      throw forbidden(MailMessages.forbiddenActor);
    }
    const { tenantId, messageId } = caller;
    const template = request.template;
    await this.transactions.scopeToTenant(manager, tenantId);
    if (!this.mailer.configured) {
      this.logger.warn({ msg: MailMessages.droppedNoSmtp, tenantId, template, messageId });
      return;
    }
    if (await this.deliveries.wasSent(manager, tenantId, messageId)) {
      this.logger.log({ msg: MailMessages.skippedDuplicate, tenantId, template, messageId });
      return;
    }
    const expiresAt = new Date(request.expiresAt);
    if (expiresAt.getTime() <= Date.now()) {
      this.logger.warn({ msg: MailMessages.skippedExpired, tenantId, template, messageId });
      return;
    }
    const organisation = await this.organisations.findById(manager, tenantId);
    if (!organisation) {
      this.logger.warn({ msg: MailMessages.skippedNoOrganisation, tenantId, template, messageId });
      return;
    }
    // Throws (and the message ends up parked) when the seal was not made by auth for this tenant, template and address.
    const token = this.sealer.open(request.sealedToken, { tenantId, template, to: request.to });
    const mail = renderMail({
      template,
      token,
      expiresAt,
      organisationName: organisation.displayName,
      linkBaseUrl: this.linkBaseUrl,
      role: request.role,
    });
    await this.mailer.send({ to: request.to, ...mail });
    await this.transactions.inTenant(tenantId, (m) => this.deliveries.record(m, tenantId, messageId, template));
    this.logger.log({ msg: MailMessages.sent, tenantId, template, messageId });
  }
}
