import { Logger } from '@nestjs/common';
import { PLATFORM_TENANT } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import type { AuthConfig } from '../config';
import type { InvitationRepository } from '../repositories/invitation.repository';
import type { OrganisationRepository } from '../repositories/organisation.repository';
import type { TransactionRepository } from '../repositories/transaction.repository';
import type { UserRepository } from '../repositories/user.repository';
import { parseTenantToken, TenantTokenKind } from '../utils/tenant-token';
import { InvitationService } from './invitation.service';
import type { MailRequestService } from './mail-request.service';
import { OrganisationService } from './organisation.service';
import type { OrganisationLimitsService } from '../limits/organisation-limits.service';

/** A strict fake: any method call that the test did not expect fails it. */
function strict<T extends object>(name: string, allowed: Partial<Record<keyof T, jest.Mock>> = {}): T {
  return new Proxy(allowed, {
    get: (target, property) => {
      if (property in target) return (target as Record<string | symbol, unknown>)[property];
      throw new Error(`Unexpected call to ${name}.${String(property)}`);
    },
  }) as unknown as T;
}

describe('OrganisationService.upsert', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const command = { tenantId: 'demo', displayName: 'Demo', registration: 'open' as const, admins: ['A@x.org', 'a@x.org', 'b@x.org'], suspended: false };
  const manager = { name: 'the inbox transaction' } as unknown as EntityManager;

  it('refuses a user actor before touching anything', async () => {
    const service = new OrganisationService(strict('transactions'), strict('organisations'), strict('invitations'), strict('limits'));
    const reply = await service.upsert(manager, { tenantId: PLATFORM_TENANT, actor: { kind: 'user', id: 'u1', roles: ['platform_admin'] } }, command);
    expect(reply).toEqual({ ok: false, code: 'FORBIDDEN', message: expect.any(String) });
  });

  it('refuses a message without an actor', async () => {
    const service = new OrganisationService(strict('transactions'), strict('organisations'), strict('invitations'), strict('limits'));
    expect(await service.upsert(manager, { tenantId: PLATFORM_TENANT }, command)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('refuses a message addressed to another tenant', async () => {
    const service = new OrganisationService(strict('transactions'), strict('organisations'), strict('invitations'), strict('limits'));
    const reply = await service.upsert(manager, { tenantId: 'other', actor: { kind: 'service', id: 'op', roles: [] } }, command);
    expect(reply).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('scopes to the tenant, upserts, and hands the admins to the invitations in the same transaction', async () => {
    const scopeToTenant = jest.fn().mockResolvedValue(undefined);
    const upsert = jest.fn().mockResolvedValue({ created: true });
    const applyLimits = jest.fn().mockResolvedValue(undefined);
    const inviteAdmins = jest.fn().mockResolvedValue(['a@x.org']);
    const service = new OrganisationService(
      strict<TransactionRepository>('transactions', { scopeToTenant }),
      strict<OrganisationRepository>('organisations', { upsert }),
      strict<InvitationService>('invitations', { inviteAdmins }),
      strict<OrganisationLimitsService>('limits', { apply: applyLimits }),
    );
    const reply = await service.upsert(manager, { tenantId: 'demo', actor: { kind: 'service', id: 'op', roles: [] } }, command);
    expect(reply).toEqual({ ok: true, data: { tenantId: 'demo', created: true, invited: ['a@x.org'] } });
    expect(scopeToTenant).toHaveBeenCalledWith(manager, 'demo');
    expect(applyLimits).toHaveBeenCalledWith(manager, 'demo', undefined);
    expect(inviteAdmins).toHaveBeenCalledWith(manager, 'demo', command.admins);
  });
});

describe('InvitationService.inviteAdmins', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const manager = { name: 'the inbox transaction' } as unknown as EntityManager;
  const config = { INVITATION_TTL_SECONDS: 3600, PASSWORD_MIN_LENGTH: 8 } as AuthConfig;

  function service(findEmails: jest.Mock, upsertPending: jest.Mock, request: jest.Mock): InvitationService {
    return new InvitationService(
      strict('transactions'),
      strict('organisations'),
      strict<UserRepository>('users', { findEmails }),
      strict<InvitationRepository>('invitations', { upsertPending }),
      strict('events'),
      strict<MailRequestService>('mail', { request }),
      strict('hasher'),
      config,
    );
  }

  it('invites each admin once (lower-cased), skips members, and e-mails only new invitations', async () => {
    const findEmails = jest.fn().mockResolvedValue(new Set(['b@x.org']));
    // c@x.org already holds a live invitation: upsertPending keeps it and writes nothing.
    const upsertPending = jest.fn().mockImplementation((_m, invitation: { email: string }) =>
      Promise.resolve(invitation.email === 'c@x.org' ? undefined : 'new-invitation-id'),
    );
    const request = jest.fn().mockResolvedValue(undefined);
    const invited = await service(findEmails, upsertPending, request).inviteAdmins(manager, 'demo', ['A@x.org', 'a@x.org', 'b@x.org', 'c@x.org']);

    expect(invited).toEqual(['a@x.org', 'c@x.org']);
    expect(findEmails).toHaveBeenCalledWith(manager, 'demo', ['a@x.org', 'b@x.org', 'c@x.org']);
    expect(upsertPending).toHaveBeenCalledTimes(2);
    expect(upsertPending.mock.calls[0][1]).toMatchObject({ tenantId: 'demo', email: 'a@x.org', role: 'org_admin', tokenHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(request).toHaveBeenCalledTimes(1);
    const mail = request.mock.calls[0][1];
    expect(request.mock.calls[0][0]).toBe(manager);
    expect(mail).toMatchObject({ tenantId: 'demo', template: 'invitation', to: 'a@x.org', role: 'org_admin' });
    // The e-mailed token is the one whose hash was stored, and it names its tenant.
    expect(parseTenantToken(TenantTokenKind.invitation, mail.token)).toEqual({ tenantId: 'demo', hash: upsertPending.mock.calls[0][1].tokenHash });
  });
});
