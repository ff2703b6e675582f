import { Injectable, Logger } from '@nestjs/common';
import { Events, PLATFORM_TENANT, type Commands, type CommandReply, type Payload } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import { EventRepository } from '../repositories/event.repository';
import { OrganisationLifecycleRepository } from '../repositories/organisation-lifecycle.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import type { BusCaller } from './organisation.service';

export type DeprovisionOrganisationCommand = Payload<typeof Commands.deprovisionOrganisation>;

export interface DeprovisionOrganisationResult {
  tenantId: string;
  mode: DeprovisionOrganisationCommand['mode'];
  /** False when auth had no such organisation (a repeated or late command): nothing to lock or delete here. */
  found: boolean;
  /** `retain`: refresh tokens revoked by this call (0 when repeated). */
  revokedRefreshTokens: number;
  /** `delete`: rows deleted per table of the auth database by this call (empty when repeated). */
  deleted: Record<string, number>;
  /** `delete`: `organisation.deleted` was published, so claims, payments and documents purge the tenant too. */
  purgeRequested: boolean;
}

/** Who may deprovision: the same rule as the upsert (platform services, for the platform or that organisation). */
export const OrganisationLifecycleMessages = {
  forbiddenActor: 'Only platform services may deprovision organisations',
  tenantMismatch: (envelopeTenant: string, tenantId: string) =>
    `The message is addressed to tenant "${envelopeTenant}" but deprovisions organisation "${tenantId}"; ` +
    `send it for tenant "${PLATFORM_TENANT}" or "${tenantId}"`,
  locked: 'Locked an organisation (suspended, refresh tokens revoked, data kept)',
  deleted: 'Deleted an organisation and asked every service to purge it',
} as const;

/** The service actor auth names on the events it publishes about an organisation's lifecycle. */
export const AUTH_SERVICE_ACTOR = { kind: 'service' as const, id: 'auth', roles: [] as string[] };

/**
 * `auth.organisation.deprovision`, the operator's side of a `RallyForgeTenant` deletion (TENANCY.md "Lifecycle"):
 * - `retain`: the organisation is suspended (logins and refreshes refused: AuthService checks `suspended`), every
 *   refresh token of it is revoked, and all data stays. Access tokens already issued expire within their TTL.
 * - `delete`: every row of the organisation in auth's database goes (users, tokens, invitations, subscriptions and
 *   any other tenant-owned table), then the organisation; `organisation.deleted` is written to the outbox in the same
 *   transaction, so claims, payments and documents purge their rows and files exactly when auth's delete commits.
 * Both are idempotent: repeating them, or naming an organisation that does not exist, succeeds and says so.
 */
@Injectable()
export class OrganisationLifecycleService {
  private readonly logger = new Logger(OrganisationLifecycleService.name);

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly lifecycle: OrganisationLifecycleRepository,
    private readonly events: EventRepository,
  ) {}

  async deprovision(
    manager: EntityManager,
    caller: BusCaller,
    command: DeprovisionOrganisationCommand,
  ): Promise<CommandReply<DeprovisionOrganisationResult>> {
    if (caller.actor?.kind !== 'service') {
      return { ok: false, code: 'FORBIDDEN', message: OrganisationLifecycleMessages.forbiddenActor };
    }
    if (caller.tenantId !== PLATFORM_TENANT && caller.tenantId !== command.tenantId) {
      return {
        ok: false,
        code: 'FORBIDDEN',
        message: OrganisationLifecycleMessages.tenantMismatch(caller.tenantId, command.tenantId),
      };
    }
    const { tenantId, mode } = command;
    await this.transactions.scopeToTenant(manager, tenantId);
    const result: DeprovisionOrganisationResult = {
      tenantId,
      mode,
      found: false,
      revokedRefreshTokens: 0,
      deleted: {},
      purgeRequested: false,
    };

    if (mode === 'retain') {
      result.found = await this.lifecycle.suspend(manager, tenantId);
      if (result.found) result.revokedRefreshTokens = await this.lifecycle.revokeRefreshTokens(manager, tenantId);
      this.logger.log({ msg: OrganisationLifecycleMessages.locked, tenantId, found: result.found, revoked: result.revokedRefreshTokens });
      return { ok: true, data: result };
    }

    result.found = await this.lifecycle.exists(manager, tenantId);
    if (result.found) result.deleted = await this.lifecycle.purgeTenant(manager, tenantId);
    // Published even when auth had nothing left: a repeated command re-drives the other services' (idempotent)
    // purge, which is what a retry after a partial failure elsewhere needs.
    await this.events.publish(manager, Events.organisationDeleted, { tenantId }, { tenantId, actor: AUTH_SERVICE_ACTOR });
    result.purgeRequested = true;
    this.logger.log({ msg: OrganisationLifecycleMessages.deleted, tenantId, found: result.found, deleted: result.deleted });
    return { ok: true, data: result };
  }
}
