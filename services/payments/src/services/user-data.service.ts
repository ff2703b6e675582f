import { Injectable, Logger } from '@nestjs/common';
import { OutboxPublisher, type BusContext } from '@rallyforge/bus';
import { Events, type Commands, type CommandReply, type Payload, isServiceActor } from '@rallyforge/contracts';
import { SERVICE_NAME } from '../payments.constants';
import { PaymentsUserDataRepository, type ExportedPayment } from '../repositories/user-data.repository';

export type OrganisationDeleted = Payload<typeof Events.organisationDeleted>;
export type UserDeletionRequested = Payload<typeof Events.userDeletionRequested>;
export type ExportPaymentsUserData = Payload<typeof Commands.exportPaymentsUserData>;
export interface PaymentsUserDataExport {
  payments: ExportedPayment[];
}

/** Only auth speaks for a user's data or an organisation's lifecycle (the envelope's actor, checked first). */
export const AUTH_ACTOR_ID = 'auth';

export const UserDataMessages = {
  refused: (what: string, reason: string) => `Refused ${what}: ${reason}`,
  notFromAuth: 'only the auth service may send it',
  tenantMismatch: 'the envelope is for another tenant than the organisation it names',
  purged: 'Purged a deleted organisation',
  erased: "Erased a user's payments (completed ones anonymised and kept)",
} as const;

/**
 * GDPR and organisation lifecycle on the payments side, over the bus in the handler's inbox transaction: export a
 * user's payments (request/reply), erase them (`user.deletion.requested` → `user.data.erased` in the same
 * transaction; completed payments are anonymised, not deleted), and purge a deleted organisation.
 */
@Injectable()
export class PaymentsUserDataService {
  private readonly logger = new Logger(PaymentsUserDataService.name);

  constructor(
    private readonly data: PaymentsUserDataRepository,
    private readonly outbox: OutboxPublisher,
  ) {}

  async export(command: ExportPaymentsUserData, ctx: BusContext): Promise<CommandReply<PaymentsUserDataExport>> {
    if (!fromAuth(ctx)) return { ok: false, code: 'FORBIDDEN', message: UserDataMessages.notFromAuth };
    return { ok: true, data: { payments: await this.data.exportUser(ctx.manager, ctx.tenantId, command.userId) } };
  }

  async erase(event: UserDeletionRequested, ctx: BusContext): Promise<void> {
    if (!fromAuth(ctx)) return this.refuse(ctx, Events.userDeletionRequested.type, UserDataMessages.notFromAuth);
    const { deleted, anonymised } = await this.data.eraseUser(ctx.manager, ctx.tenantId, event.userId);
    await this.outbox.publish(
      ctx.manager,
      Events.userDataErased,
      { requestId: event.requestId, userId: event.userId, service: SERVICE_NAME, erased: { payments: deleted }, anonymised: { payments: anonymised } },
      { tenantId: ctx.tenantId, actor: { kind: 'service', id: SERVICE_NAME, roles: [] } },
    );
    this.logger.log({ msg: UserDataMessages.erased, tenantId: ctx.tenantId, requestId: event.requestId, deleted, anonymised });
  }

  async purgeOrganisation(event: OrganisationDeleted, ctx: BusContext): Promise<void> {
    if (!fromAuth(ctx)) return this.refuse(ctx, Events.organisationDeleted.type, UserDataMessages.notFromAuth);
    if (event.tenantId !== ctx.tenantId) return this.refuse(ctx, Events.organisationDeleted.type, UserDataMessages.tenantMismatch);
    const deleted = await this.data.purgeTenant(ctx.manager, ctx.tenantId);
    this.logger.log({ msg: UserDataMessages.purged, tenantId: ctx.tenantId, deleted });
  }

  /** Logged and acknowledged: retrying cannot make a forged message valid. */
  private refuse(ctx: BusContext, what: string, reason: string): void {
    this.logger.warn({ msg: UserDataMessages.refused(what, reason), messageId: ctx.messageId, tenantId: ctx.tenantId, actor: ctx.actor?.id });
  }
}

const fromAuth = (ctx: BusContext): boolean => isServiceActor(ctx.actor, AUTH_ACTOR_ID);
