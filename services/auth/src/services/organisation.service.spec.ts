import { Logger } from '@nestjs/common';
import { PLATFORM_TENANT } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import type { AuthConfig } from '../config';
import type { InvitationRepository } from '../repositories/invitation.repository';
import type { OrganisationRepository } from '../repositories/organisation.repository';
import type { TransactionRepository } from '../repositories/transaction.repository';
import type { UserRepository } from '../repositories/user.repository';
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
  const config = { INVITATION_TTL_SECONDS: 3600 } as AuthConfig;

  it('refuses a user actor before touching anything', async () => {
    const service = new OrganisationService(strict('transactions'), strict('organisations'), strict('users'), strict('invitations'), config, strict('limits'));
    const reply = await service.upsert(manager, { tenantId: PLATFORM_TENANT, actor: { kind: 'user', id: 'u1', roles: ['platform_admin'] } }, command);
    expect(reply).toEqual({ ok: false, code: 'FORBIDDEN', message: expect.any(String) });
  });

  it('refuses a message without an actor', async () => {
    const service = new OrganisationService(strict('transactions'), strict('organisations'), strict('users'), strict('invitations'), config, strict('limits'));
    expect(await service.upsert(manager, { tenantId: PLATFORM_TENANT }, command)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('refuses a message addressed to another tenant', async () => {
    const service = new OrganisationService(strict('transactions'), strict('organisations'), strict('users'), strict('invitations'), config, strict('limits'));
    const reply = await service.upsert(manager, { tenantId: 'other', actor: { kind: 'service', id: 'op', roles: [] } }, command);
    expect(reply).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('scopes to the tenant, upserts, and invites each new admin once (lower-cased)', async () => {
    const scopeToTenant = jest.fn().mockResolvedValue(undefined);
    const upsert = jest.fn().mockResolvedValue({ created: true });
    const applyLimits = jest.fn().mockResolvedValue(undefined);
    const findEmails = jest.fn().mockResolvedValue(new Set(['b@x.org']));
    const upsertPending = jest.fn().mockResolvedValue(true);
    const service = new OrganisationService(
      strict<TransactionRepository>('transactions', { scopeToTenant }),
      strict<OrganisationRepository>('organisations', { upsert }),
      strict<UserRepository>('users', { findEmails }),
      strict<InvitationRepository>('invitations', { upsertPending }),
      config,
      strict<OrganisationLimitsService>('limits', { apply: applyLimits }),
    );
    const reply = await service.upsert(manager, { tenantId: 'demo', actor: { kind: 'service', id: 'op', roles: [] } }, command);
    expect(reply).toEqual({ ok: true, data: { tenantId: 'demo', created: true, invited: ['a@x.org'] } });
    expect(scopeToTenant).toHaveBeenCalledWith(manager, 'demo');
    expect(applyLimits).toHaveBeenCalledWith(manager, 'demo', undefined);
    expect(findEmails).toHaveBeenCalledWith(manager, 'demo', ['a@x.org', 'b@x.org']);
    expect(upsertPending).toHaveBeenCalledTimes(1);
    expect(upsertPending.mock.calls[0][1]).toMatchObject({ tenantId: 'demo', email: 'a@x.org', role: 'org_admin', tokenHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
