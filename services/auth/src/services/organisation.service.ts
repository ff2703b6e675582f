import { Injectable, Logger } from '@nestjs/common';
import { PLATFORM_TENANT, type Actor, type Commands, type CommandReply, type Payload } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import { OrganisationLimitsService } from '../limits/organisation-limits.service';
import { OrganisationRepository } from '../repositories/organisation.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { InvitationService } from './invitation.service';

export type UpsertOrganisationCommand = Payload<typeof Commands.upsertOrganisation>;
export interface UpsertOrganisationResult {
  tenantId: string;
  created: boolean;
  /**
   * Admin e-mails that now hold a pending invitation (members already in the organisation are left out); each was
   * e-mailed once, when its invitation was created.
   */
  invited: string[];
}

/** Who sent a bus message and for which tenant (from the validated envelope). */
export interface BusCaller {
  tenantId: string;
  actor?: Actor;
}

export const OrganisationMessages = {
  forbiddenActor: 'Only platform services may create or update organisations',
  tenantMismatch: (envelopeTenant: string, tenantId: string) =>
    `The message is addressed to tenant "${envelopeTenant}" but changes organisation "${tenantId}"; ` +
    `send it for tenant "${PLATFORM_TENANT}" or "${tenantId}"`,
  upserted: 'Upserted an organisation',
} as const;

@Injectable()
export class OrganisationService {
  private readonly logger = new Logger(OrganisationService.name);

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly organisations: OrganisationRepository,
    private readonly invitations: InvitationService,
    private readonly limits: OrganisationLimitsService,
  ) {}

  /**
   * `auth.organisation.upsert`: creates or updates the organisation and invites its admins. Only `service` actors
   * (the operator, `npm run up`) may call it, for the platform tenant or the organisation itself.
   * Runs in `manager` (the bus inbox's transaction).
   */
  async upsert(
    manager: EntityManager,
    caller: BusCaller,
    command: UpsertOrganisationCommand,
  ): Promise<CommandReply<UpsertOrganisationResult>> {
    if (caller.actor?.kind !== 'service') {
      return { ok: false, code: 'FORBIDDEN', message: OrganisationMessages.forbiddenActor };
    }
    if (caller.tenantId !== PLATFORM_TENANT && caller.tenantId !== command.tenantId) {
      return { ok: false, code: 'FORBIDDEN', message: OrganisationMessages.tenantMismatch(caller.tenantId, command.tenantId) };
    }

    const tenantId = command.tenantId;
    await this.transactions.scopeToTenant(manager, tenantId);
    const { created } = await this.organisations.upsert(manager, {
      id: tenantId,
      displayName: command.displayName,
      registration: command.registration,
      suspended: command.suspended,
    });
    await this.limits.apply(manager, tenantId, command.limits);

    // One e-mail per admin: live invitations are kept, and the inbox drops a redelivered command before it gets here.
    const invited = await this.invitations.inviteAdmins(manager, tenantId, command.admins);
    this.logger.log({ msg: OrganisationMessages.upserted, tenantId, created, invitedCount: invited.length });
    return { ok: true, data: { tenantId, created, invited } };
  }
}
