import { Logger } from '@nestjs/common';
import { PLATFORM_TENANT } from '@rallyforge/contracts';
import type { EntityManager } from 'typeorm';
import type { SubscriptionRepository } from '../repositories/subscription.repository';
import type { TransactionRepository } from '../repositories/transaction.repository';
import type { UserRepository } from '../repositories/user.repository';
import { PaymentActorRefusedError, PaymentTenantMismatchError, SubscriptionService } from './subscription.service';

describe('SubscriptionService.recordPayment', () => {
  beforeAll(() => Logger.overrideLogger(false));

  const manager = {} as EntityManager;
  const event = {
    paymentId: '00000000-0000-4000-8000-000000000001',
    userId: '00000000-0000-4000-8000-000000000002',
    planId: 'premium',
    amountCents: 100,
    currency: 'USD',
    periodEnd: '2030-01-01T00:00:00.000Z',
  };

  function build(user: unknown) {
    const scopeToTenant = jest.fn().mockResolvedValue(undefined);
    const findById = jest.fn().mockResolvedValue(user);
    const recordPayment = jest.fn().mockResolvedValue(undefined);
    const service = new SubscriptionService(
      { scopeToTenant } as unknown as TransactionRepository,
      { findById } as unknown as UserRepository,
      { recordPayment } as unknown as SubscriptionRepository,
    );
    return { service, scopeToTenant, findById, recordPayment };
  }

  const paymentsService = { kind: 'service' as const, id: 'payments', roles: [] };
  const payer = { kind: 'user' as const, id: event.userId, roles: ['veteran'] };

  it('records the payment of a member of the message tenant', async () => {
    const { service, findById, recordPayment } = build({ id: event.userId, tenantId: 'demo' });
    await service.recordPayment(manager, { tenantId: 'demo', actor: paymentsService }, event);
    expect(findById).toHaveBeenCalledWith(manager, 'demo', event.userId);
    expect(recordPayment).toHaveBeenCalledWith(manager, {
      tenantId: 'demo',
      userId: event.userId,
      planId: 'premium',
      paymentId: event.paymentId,
      periodEnd: new Date(event.periodEnd),
    });
  });

  it('refuses a user who is not in the message tenant, writing nothing', async () => {
    const { service, recordPayment } = build(null);
    await expect(service.recordPayment(manager, { tenantId: 'other', actor: payer }, event)).rejects.toBeInstanceOf(PaymentTenantMismatchError);
    expect(recordPayment).not.toHaveBeenCalled();
  });

  it('refuses platform-tenant payments without looking anything up', async () => {
    const { service, findById, recordPayment } = build({ id: event.userId });
    await expect(service.recordPayment(manager, { tenantId: PLATFORM_TENANT, actor: paymentsService }, event)).rejects.toBeInstanceOf(
      PaymentTenantMismatchError,
    );
    expect(findById).not.toHaveBeenCalled();
    expect(recordPayment).not.toHaveBeenCalled();
  });

  it('records the paying user’s own payment, as payments publishes a checkout', async () => {
    const { service, recordPayment } = build({ id: event.userId, tenantId: 'demo' });
    await service.recordPayment(manager, { tenantId: 'demo', actor: payer }, event);
    expect(recordPayment).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['no actor', undefined],
    ['another user', { kind: 'user' as const, id: '00000000-0000-4000-8000-000000000009', roles: ['veteran'] }],
    ['the payer without the permission to pay', { kind: 'user' as const, id: event.userId, roles: ['platform_admin'] }],
    ['another service', { kind: 'service' as const, id: 'claims', roles: [] }],
  ])('refuses a payment reported by %s, before looking anything up', async (_label, actor) => {
    const { service, scopeToTenant, findById, recordPayment } = build({ id: event.userId, tenantId: 'demo' });
    const refused = service.recordPayment(manager, { tenantId: 'demo', actor }, event);
    await expect(refused).rejects.toBeInstanceOf(PaymentActorRefusedError);
    await expect(refused).rejects.toMatchObject({ status: 403 });
    expect([scopeToTenant, findById, recordPayment].map((fn) => fn.mock.calls.length)).toEqual([0, 0, 0]);
  });
});
