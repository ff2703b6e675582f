import { Injectable, Logger } from '@nestjs/common';
import { OutboxPublisher, type BusContext } from '@rallyforge/bus';
import { Events, type Commands, type CommandReply, type Payload, isServiceActor } from '@rallyforge/contracts';
import { CLAIMS_SERVICE_NAME } from '../claims.constants';
import { ClaimsUserDataRepository, type ExportedClaim, type ExportedEvidence } from '../repositories/user-data.repository';

export type OrganisationDeleted = Payload<typeof Events.organisationDeleted>;
export type UserDeletionRequested = Payload<typeof Events.userDeletionRequested>;
export type ExportClaimsUserData = Payload<typeof Commands.exportClaimsUserData>;
export interface ClaimsUserDataExport {
  claims: ExportedClaim[];
  evidence: ExportedEvidence[];
}

/** Only auth speaks for a user's data or an organisation's lifecycle (the envelope's actor, checked first). */
export const AUTH_ACTOR_ID = 'auth';

export const UserDataMessages = {
  refused: (what: string, reason: string) => `Refused ${what}: ${reason}`,
  notFromAuth: 'only the auth service may send it',
  tenantMismatch: 'the envelope is for another tenant than the organisation it names',
  purged: 'Purged a deleted organisation',
  erased: "Erased a user's claims",
} as const;

/**
 * GDPR and organisation lifecycle on the claims side, all over the bus in the handler's inbox transaction:
 * export a user's claims and evidence (request/reply), erase them (`user.deletion.requested` →
 * `user.data.erased` in the same transaction), and purge a deleted organisation (`organisation.deleted`).
 */
@Injectable()
export class ClaimsUserDataService {
  private readonly logger = new Logger(ClaimsUserDataService.name);

  constructor(
    private readonly data: ClaimsUserDataRepository,
    private readonly outbox: OutboxPublisher,
  ) {}

  async export(command: ExportClaimsUserData, ctx: BusContext): Promise<CommandReply<ClaimsUserDataExport>> {
    if (!fromAuth(ctx)) return { ok: false, code: 'FORBIDDEN', message: UserDataMessages.notFromAuth };
    return { ok: true, data: await this.data.exportUser(ctx.manager, ctx.tenantId, command.userId) };
  }

  async erase(event: UserDeletionRequested, ctx: BusContext): Promise<void> {
    if (!fromAuth(ctx)) return this.refuse(ctx, Events.userDeletionRequested.type, UserDataMessages.notFromAuth);
    const erased = await this.data.eraseUser(ctx.manager, ctx.tenantId, event.userId);
    await this.outbox.publish(
      ctx.manager,
      Events.userDataErased,
      { requestId: event.requestId, userId: event.userId, service: CLAIMS_SERVICE_NAME, erased, anonymised: {} },
      { tenantId: ctx.tenantId, actor: { kind: 'service', id: CLAIMS_SERVICE_NAME, roles: [] } },
    );
    this.logger.log({ msg: UserDataMessages.erased, tenantId: ctx.tenantId, requestId: event.requestId, ...erased });
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
