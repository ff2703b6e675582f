import { Logger } from '@nestjs/common';
import { AppError, type AuthUser } from '@rallyforge/service-kit';
import { PaymentEntity } from '../entities/payment.entity';
import { DEFAULT_PLANS } from '../entities/plan';
import { PaymentErrorCodes } from '../payments.constants';
import type { PaymentProvider } from '../providers/payment-provider';
import type { PaymentRepository } from '../repositories/payment.repository';
import { PlanRepository } from '../repositories/plan.repository';
import { PaymentsService, parseIdempotencyKey } from './payments.service';

const USER = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const veteran: AuthUser = { userId: USER, tenantId: 'demo', roles: ['veteran'] };
const admin: AuthUser = { userId: OTHER, tenantId: 'demo', roles: ['org_admin'] };

function payment(overrides: Partial<PaymentEntity> = {}): PaymentEntity {
  return Object.assign(new PaymentEntity(), {
    id: '33333333-3333-4333-8333-333333333333',
    tenantId: 'demo',
    userId: USER,
    planId: 'basic-monthly',
    amountCents: 999,
    currency: 'USD',
    status: 'pending',
    provider: 'dev-instant',
    providerRef: null,
    checkoutUrl: null,
    idempotencyKey: null,
    periodEnd: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  });
}

/** Strict fake: only the methods a test sets up exist, so an unexpected repository call fails the test. */
function strictRepository(methods: Partial<Record<keyof PaymentRepository, jest.Mock>>): PaymentRepository {
  return new Proxy(methods, {
    get(target, property) {
      if (property in target) return target[property as keyof typeof target];
      if (property === 'then') return undefined;
      throw new Error(`Unexpected call to PaymentRepository.${String(property)}`);
    },
  }) as unknown as PaymentRepository;
}

function provider(result: Awaited<ReturnType<PaymentProvider['createCheckout']>> | Error): PaymentProvider & { createCheckout: jest.Mock } {
  return {
    name: 'dev-instant',
    createCheckout: jest.fn(async () => {
      if (result instanceof Error) throw result;
      return result;
    }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('PaymentsService', () => {
  const plans = new PlanRepository();
  beforeAll(() => Logger.overrideLogger(false));

  it('lists the catalog', async () => {
    const service = new PaymentsService(plans, strictRepository({}), provider({ status: 'succeeded', providerRef: 'x' }));
    const { items } = await service.listPlans();
    expect(items.map((p) => p.id)).toEqual(DEFAULT_PLANS.map((p) => p.id));
  });

  describe('checkout', () => {
    it('refuses an unknown plan with PLAN_NOT_FOUND before touching the database', async () => {
      const service = new PaymentsService(plans, strictRepository({}), provider({ status: 'succeeded', providerRef: 'x' }));
      const error = await rejection(service.checkout(veteran, { planId: 'gold-forever' }));
      expect(error).toMatchObject({ status: 404, code: PaymentErrorCodes.planNotFound });
    });

    it('refuses a malformed Idempotency-Key before anything else', async () => {
      const service = new PaymentsService(plans, strictRepository({}), provider({ status: 'succeeded', providerRef: 'x' }));
      const error = await rejection(service.checkout(veteran, { planId: 'basic-monthly' }, 'has space'));
      expect(error).toMatchObject({ status: 400, code: PaymentErrorCodes.invalidIdempotencyKey });
    });

    it('refuses a token whose subject is not a user id', async () => {
      const service = new PaymentsService(plans, strictRepository({}), provider({ status: 'succeeded', providerRef: 'x' }));
      const error = await rejection(service.checkout({ ...veteran, userId: 'service:claims' }, { planId: 'basic-monthly' }));
      expect(error.status).toBe(403);
    });

    it('records success and the payment.succeeded event through the repository, in one call', async () => {
      const pending = payment();
      const succeeded = payment({ status: 'succeeded', providerRef: `dev_${pending.id}`, periodEnd: new Date('2026-02-01T00:00:00Z') });
      const repository = strictRepository({
        createPending: jest.fn().mockResolvedValue({ payment: pending, created: true }),
        markSucceeded: jest.fn().mockResolvedValue(succeeded),
      });
      const gateway = provider({ status: 'succeeded', providerRef: `dev_${pending.id}` });
      const service = new PaymentsService(plans, repository, gateway);

      const result = await service.checkout(veteran, { planId: 'basic-monthly' }, 'key-1');

      expect(result).toMatchObject({ id: pending.id, status: 'succeeded', amountCents: 999, periodEnd: '2026-02-01T00:00:00.000Z' });
      expect(repository.createPending).toHaveBeenCalledWith(
        expect.objectContaining({ tenantId: 'demo', userId: USER, idempotencyKey: 'key-1', provider: 'dev-instant' }),
      );
      expect(gateway.createCheckout).toHaveBeenCalledWith(expect.objectContaining({ paymentId: pending.id, tenantId: 'demo', userId: USER }));
      const [tenantId, id, change] = (repository.markSucceeded as jest.Mock).mock.calls[0];
      expect([tenantId, id]).toEqual(['demo', pending.id]);
      expect(change.event).toEqual({
        paymentId: pending.id,
        userId: USER,
        planId: 'basic-monthly',
        amountCents: 999,
        currency: 'USD',
        periodEnd: change.periodEnd.toISOString(),
      });
      expect(change.actor).toEqual({ kind: 'user', id: USER, roles: ['veteran'] });
    });

    it('returns the earlier payment for a repeated key without calling the provider again', async () => {
      const earlier = payment({ status: 'succeeded', idempotencyKey: 'key-1' });
      const gateway = provider({ status: 'succeeded', providerRef: 'x' });
      const service = new PaymentsService(
        plans,
        strictRepository({ createPending: jest.fn().mockResolvedValue({ payment: earlier, created: false }) }),
        gateway,
      );
      expect((await service.checkout(veteran, { planId: 'basic-monthly' }, 'key-1')).id).toBe(earlier.id);
      expect(gateway.createCheckout).not.toHaveBeenCalled();
    });

    it('refuses a repeated key for a different plan with IDEMPOTENCY_KEY_REUSED', async () => {
      const earlier = payment({ planId: 'pro-monthly', idempotencyKey: 'key-1' });
      const service = new PaymentsService(
        plans,
        strictRepository({ createPending: jest.fn().mockResolvedValue({ payment: earlier, created: false }) }),
        provider({ status: 'succeeded', providerRef: 'x' }),
      );
      const error = await rejection(service.checkout(veteran, { planId: 'basic-monthly' }, 'key-1'));
      expect(error).toMatchObject({ status: 409, code: PaymentErrorCodes.idempotencyKeyReused });
    });

    it('marks the payment failed and answers 503 when the provider fails', async () => {
      const pending = payment();
      const repository = strictRepository({
        createPending: jest.fn().mockResolvedValue({ payment: pending, created: true }),
        markFailed: jest.fn().mockResolvedValue(undefined),
      });
      const service = new PaymentsService(plans, repository, provider(new Error('card network down')));
      const error = await rejection(service.checkout(veteran, { planId: 'basic-monthly' }));
      expect(error).toMatchObject({ status: 503, code: PaymentErrorCodes.providerFailed });
      expect(repository.markFailed).toHaveBeenCalledWith('demo', pending.id);
    });

    it('keeps a pending checkout pending with its URL', async () => {
      const pending = payment();
      const repository = strictRepository({
        createPending: jest.fn().mockResolvedValue({ payment: pending, created: true }),
        markCheckoutStarted: jest.fn().mockResolvedValue(payment({ checkoutUrl: 'https://pay.example/cs_1', providerRef: 'cs_1' })),
      });
      const service = new PaymentsService(plans, repository, provider({ status: 'pending', providerRef: 'cs_1', checkoutUrl: 'https://pay.example/cs_1' }));
      const result = await service.checkout(veteran, { planId: 'basic-monthly' });
      expect(result).toMatchObject({ status: 'pending', checkoutUrl: 'https://pay.example/cs_1' });
      expect(repository.markCheckoutStarted).toHaveBeenCalledWith('demo', pending.id, { providerRef: 'cs_1', checkoutUrl: 'https://pay.example/cs_1' });
    });
  });

  describe('list and get', () => {
    it("limits a veteran to their own payments and an org admin to the organisation's", async () => {
      const list = jest.fn().mockResolvedValue([]);
      const service = new PaymentsService(plans, strictRepository({ list }), provider({ status: 'succeeded', providerRef: 'x' }));
      await service.list(veteran, {});
      await service.list(admin, { limit: 10, offset: 5 });
      expect(list).toHaveBeenNthCalledWith(1, 'demo', { userId: USER, limit: 50, offset: 0 });
      expect(list).toHaveBeenNthCalledWith(2, 'demo', { userId: undefined, limit: 10, offset: 5 });
    });

    it('reports a payment the caller may not see as PAYMENT_NOT_FOUND', async () => {
      const findById = jest.fn().mockResolvedValue(null);
      const service = new PaymentsService(plans, strictRepository({ findById }), provider({ status: 'succeeded', providerRef: 'x' }));
      const error = await rejection(service.get(veteran, '44444444-4444-4444-8444-444444444444'));
      expect(error).toMatchObject({ status: 404, code: PaymentErrorCodes.paymentNotFound });
      expect(findById).toHaveBeenCalledWith('demo', '44444444-4444-4444-8444-444444444444', USER);
    });
  });
});

describe('parseIdempotencyKey', () => {
  it('accepts printable ASCII up to 255 characters', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('a'.repeat(255))).toBe('a'.repeat(255));
    expect(parseIdempotencyKey('order-42:retry_1')).toBe('order-42:retry_1');
  });

  it('refuses empty, too long, spaced, non-ASCII and repeated headers', () => {
    for (const bad of ['', 'a'.repeat(256), 'a b', 'clé', ['a', 'b']]) {
      expect(() => parseIdempotencyKey(bad)).toThrow(AppError);
    }
  });
});
