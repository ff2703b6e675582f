import { Injectable, Logger } from '@nestjs/common';
import { Events } from '@rallyforge/contracts';
import { InjectConfig, validationFailed, type AuthUser } from '@rallyforge/service-kit';
import type { EntityManager } from 'typeorm';
import { AuthErrors } from '../auth.errors';
import type { AuthConfig } from '../config';
import type { AcceptInvitationDto, CreateInvitationDto, InvitationDto } from '../dtos/invitation.dto';
import type { UserResponseDto } from '../dtos/user.dto';
import type { InvitationEntity } from '../entities/invitation.entity';
import type { OrganisationEntity } from '../entities/organisation.entity';
import type { UserEntity, UserRole } from '../entities/user.entity';
import { EventRepository } from '../repositories/event.repository';
import { InvitationRepository } from '../repositories/invitation.repository';
import { OrganisationRepository } from '../repositories/organisation.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { UserRepository } from '../repositories/user.repository';
import { PASSWORD_MAX_LENGTH, passwordPolicyViolations, type PasswordPolicy } from '../utils/password-policy';
import { createTenantToken, parseTenantToken, TenantTokenKind } from '../utils/tenant-token';
import { normaliseEmail, toUserResponse } from './auth.service';
import { throwUnlessValid, type TokenCheck } from './email-verification.service';
import { MailRequestService } from './mail-request.service';
import { PasswordHasherService } from './password-hasher.service';
import { rolesOf } from './token.service';

/** The role that manages an organisation's invitations. */
export const INVITING_ROLE = 'org_admin';

export const InvitationMessages = {
  invited: 'Invited a user',
  revoked: 'Revoked an invitation',
  accepted: 'Accepted an invitation',
} as const;

/** What the acceptance transaction decided; errors other than conflicts are thrown after it ended. */
interface AcceptOutcome {
  check: TokenCheck;
  accepted?: { user: UserEntity; organisation: OrganisationEntity; invitationId: string };
}

/** What an invitation row allows now. */
export function invitationCheck(invitation: InvitationEntity | null, now: Date): TokenCheck {
  if (!invitation || invitation.revokedAt) return 'invalid';
  if (invitation.acceptedAt) return 'used';
  if (invitation.expiresAt <= now) return 'expired';
  return 'valid';
}

/**
 * Invitations into an organisation: an `org_admin` invites (into their own organisation only: the tenant comes from
 * their access token, never from the body), lists and revokes; the operator's `auth.organisation.upsert` invites the
 * first admins. The invitation is e-mailed with a single-use token; accepting it creates the account with the
 * invited role, its address already verified.
 */
@Injectable()
export class InvitationService {
  private readonly logger = new Logger(InvitationService.name);
  private readonly ttlMs: number;
  private readonly passwordPolicy: PasswordPolicy;

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly organisations: OrganisationRepository,
    private readonly users: UserRepository,
    private readonly invitations: InvitationRepository,
    private readonly events: EventRepository,
    private readonly mail: MailRequestService,
    private readonly hasher: PasswordHasherService,
    @InjectConfig() config: AuthConfig,
  ) {
    this.ttlMs = config.INVITATION_TTL_SECONDS * 1000;
    this.passwordPolicy = { minLength: config.PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH };
  }

  /** `POST /invitations`: an org_admin invites someone into the caller's own organisation. */
  async invite(caller: AuthUser, dto: CreateInvitationDto): Promise<InvitationDto> {
    requireOrgAdmin(caller);
    const tenantId = caller.tenantId;
    const email = normaliseEmail(dto.email);
    // The mail contract is stricter about e-mails than class-validator; refuse here rather than fail the outbox write.
    if (!Events.emailRequested.schema.shape.to.safeParse(email).success) throw validationFailed('email must be an e-mail address');

    const invitation = await this.transactions.inTenant(tenantId, async (m) => {
      const organisation = await this.organisations.findById(m, tenantId);
      if (!organisation) throw AuthErrors.organisationNotFound();
      if (organisation.suspended) throw AuthErrors.organisationSuspended();
      if ((await this.users.findEmails(m, tenantId, [email])).has(email)) throw AuthErrors.alreadyMember();
      const id = await this.send(m, { tenantId, email, role: dto.role, invitedBy: caller.userId });
      if (!id) {
        const pending = await this.invitations.findByEmail(m, tenantId, email);
        throw AuthErrors.invitationPending(pending?.expiresAt ?? new Date());
      }
      return this.invitations.findById(m, tenantId, id);
    });
    if (!invitation) throw AuthErrors.invitationNotFound();
    this.logger.log({ msg: InvitationMessages.invited, tenantId, invitationId: invitation.id, role: invitation.role, by: caller.userId });
    return toInvitationDto(invitation);
  }

  /** `GET /invitations`: the caller's organisation's invitations that can still be accepted. */
  async listPending(caller: AuthUser): Promise<InvitationDto[]> {
    requireOrgAdmin(caller);
    const tenantId = caller.tenantId;
    const rows = await this.transactions.inTenant(tenantId, (m) => this.invitations.listPending(m, tenantId, new Date()));
    return rows.map(toInvitationDto);
  }

  /** `DELETE /invitations/:id`: the token stops working; 404 for ids of other organisations, accepted or expired ones. */
  async revoke(caller: AuthUser, id: string): Promise<void> {
    requireOrgAdmin(caller);
    const tenantId = caller.tenantId;
    const revoked = await this.transactions.inTenant(tenantId, (m) => this.invitations.revoke(m, tenantId, id, new Date()));
    if (!revoked) throw AuthErrors.invitationNotFound();
    this.logger.log({ msg: InvitationMessages.revoked, tenantId, invitationId: id, by: caller.userId });
  }

  /** `POST /invitations/accept`: public; creates the account the invitation offers and spends the token. */
  async accept(dto: AcceptInvitationDto): Promise<UserResponseDto> {
    const parsed = parseTenantToken(TenantTokenKind.invitation, dto.token);
    if (!parsed) throw AuthErrors.invalidToken('invitation');
    const { tenantId, hash } = parsed;
    const before = await this.transactions.inTenant(tenantId, (m) => this.invitations.findByHash(m, tenantId, hash));
    throwUnlessValid(invitationCheck(before, new Date()), 'invitation');
    const violations = passwordPolicyViolations(dto.password, this.passwordPolicy);
    if (violations.length > 0) throw AuthErrors.weakPassword(violations);
    const passwordHash = await this.hasher.hash(dto.password);

    const now = new Date();
    const outcome = await this.transactions.inTenant(tenantId, async (m): Promise<AcceptOutcome> => {
      const invitation = await this.invitations.findByHash(m, tenantId, hash, true);
      const check = invitationCheck(invitation, now);
      if (check !== 'valid' || !invitation) return { check };
      const organisation = await this.organisations.findById(m, tenantId);
      if (!organisation) return { check: 'invalid' };
      if (organisation.suspended) throw AuthErrors.organisationSuspended();
      const user = await this.users.create(m, {
        tenantId,
        email: invitation.email,
        displayName: dto.displayName.trim(),
        passwordHash,
        role: invitation.role,
        emailVerifiedAt: now,
      });
      if (!user) throw AuthErrors.emailTaken();
      await this.invitations.markAccepted(m, tenantId, invitation.id, user.id, now);
      await this.events.publish(
        m,
        Events.userRegistered,
        { userId: user.id, email: user.email, role: user.role },
        { tenantId, actor: { kind: 'user', id: user.id, roles: rolesOf(user) } },
      );
      return { check, accepted: { user, organisation, invitationId: invitation.id } };
    });
    throwUnlessValid(outcome.check, 'invitation');
    if (!outcome.accepted) throw AuthErrors.invalidToken('invitation');
    const { user, organisation, invitationId } = outcome.accepted;
    this.logger.log({ msg: InvitationMessages.accepted, tenantId, invitationId, userId: user.id });
    return toUserResponse(user, organisation);
  }

  /**
   * The operator's admins (in the upsert command's transaction): invites each address that is neither a member nor
   * holding a live invitation; a live invitation is kept and not e-mailed again, so repeated or redelivered commands
   * send one e-mail per admin. Returns the addresses that now hold a pending invitation.
   */
  async inviteAdmins(manager: EntityManager, tenantId: string, admins: readonly string[]): Promise<string[]> {
    const addresses = [...new Set(admins.map(normaliseEmail))];
    const members = await this.users.findEmails(manager, tenantId, addresses);
    const pending: string[] = [];
    for (const email of addresses.filter((address) => !members.has(address))) {
      await this.send(manager, { tenantId, email, role: 'org_admin' });
      pending.push(email);
    }
    return pending;
  }

  /** Records a new invitation and asks for its e-mail; undefined (nothing sent) when a live one exists. */
  private async send(
    manager: EntityManager,
    invitation: { tenantId: string; email: string; role: UserRole; invitedBy?: string },
  ): Promise<string | undefined> {
    const { token, hash } = createTenantToken(TenantTokenKind.invitation, invitation.tenantId);
    const expiresAt = new Date(Date.now() + this.ttlMs);
    const id = await this.invitations.upsertPending(manager, { ...invitation, tokenHash: hash, expiresAt });
    if (!id) return undefined;
    await this.mail.request(manager, {
      tenantId: invitation.tenantId,
      template: 'invitation',
      to: invitation.email,
      token,
      expiresAt,
      role: invitation.role,
    });
    return id;
  }

}

/** First line of every invitation method: only org_admins manage invitations (their own organisation's only). */
export function requireOrgAdmin(caller: AuthUser): void {
  if (!caller.roles.includes(INVITING_ROLE)) throw AuthErrors.orgAdminOnly();
}

function toInvitationDto(invitation: InvitationEntity): InvitationDto {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    invitedBy: invitation.invitedBy,
    createdAt: invitation.createdAt.toISOString(),
    expiresAt: invitation.expiresAt.toISOString(),
  };
}
