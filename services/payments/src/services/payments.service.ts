import { Inject, Injectable, Logger } from '@nestjs/common';
import { Events, type Payload } from '@rallyforge/contracts';
import { AppError, AuthUser, forbidden } from '@rallyforge/service-kit';
import { PaymentEntity } from '../entities/payment.entity';
import { Plan, periodEnd } from '../entities/plan';
import { CheckoutDto } from '../dtos/checkout.dto';
import { ListPaymentsQueryDto } from '../dtos/list-payments-query.dto';
import { PaymentDto, PaymentListDto } from '../dtos/payment.dto';
import { PlanDto, PlanListDto } from '../dtos/plan.dto';
import {
  IDEMPOTENCY_KEY_PATTERN,
  LIST_DEFAULT_LIMIT,
  ORGANISATION_WIDE_ROLES,
  PaymentErrorCodes,
  PaymentMessages,
} from '../payments.constants';
import { PAYMENT_PROVIDER, PaymentProvider } from '../providers/payment-provider';
import { PaymentRepository } from '../repositories/payment.repository';
import { PlanRepository } from '../repositories/plan.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Callers who may act on payments: a user of an organisation. Returns the caller's tenant. */
export function requireMember(user: AuthUser): { tenantId: string; userId: string } {
  if (!user.tenantId) throw new AppError(403, PaymentErrorCodes.tokenWithoutTenant, PaymentMessages.tokenWithoutTenant);
  // Payments and their events name the user by UUID; a token whose subject is no user id cannot pay.
  if (!UUID.test(user.userId)) throw forbidden();
  return { tenantId: user.tenantId, userId: user.userId };
}

/** Undefined when no key was sent; throws 400 for a malformed one (a repeated header arrives as an array). */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(raw)) {
    throw new AppError(400, PaymentErrorCodes.invalidIdempotencyKey, PaymentMessages.invalidIdempotencyKey);
  }
  return raw;
}

export function planNotFound(planId: string): AppError {
  return new AppError(404, PaymentErrorCodes.planNotFound, PaymentMessages.planNotFound(planId));
}

export function paymentNotFound(id: string): AppError {
  return new AppError(404, PaymentErrorCodes.paymentNotFound, PaymentMessages.paymentNotFound(id));
}

@Injectable()
export class PaymentsService {
  private readonly logger = new Logger(PaymentsService.name);

  constructor(
    private readonly plans: PlanRepository,
    private readonly payments: PaymentRepository,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
  ) {}

  /** The plan catalog is public: it carries prices, nothing about any tenant or user. */
  async listPlans(): Promise<PlanListDto> {
    return { items: (await this.plans.list()).map(PlanDto.from) };
  }

  /**
   * Starts (and with an instant provider, completes) a checkout of `dto.planId` for the caller. With an
   * Idempotency-Key, a retry by the same user returns the payment of the first call instead of charging again.
   */
  async checkout(user: AuthUser, dto: CheckoutDto, rawIdempotencyKey?: string | string[]): Promise<PaymentDto> {
    const { tenantId, userId } = requireMember(user);
    const idempotencyKey = parseIdempotencyKey(rawIdempotencyKey);
    const plan = await this.plans.findById(dto.planId);
    if (!plan) throw planNotFound(dto.planId);

    const { payment, created } = await this.payments.createPending({
      tenantId,
      userId,
      plan,
      provider: this.provider.name,
      idempotencyKey: idempotencyKey ?? null,
    });
    if (!created) {
      if (payment.planId !== plan.id) {
        throw new AppError(409, PaymentErrorCodes.idempotencyKeyReused, PaymentMessages.idempotencyKeyReused(payment.planId));
      }
      return PaymentDto.from(payment);
    }
    return PaymentDto.from(await this.startCheckout(payment, plan, user));
  }

  /** Veterans (and anyone without an organisation-wide role) see their own payments; org admins their organisation's. */
  async list(user: AuthUser, query: ListPaymentsQueryDto): Promise<PaymentListDto> {
    const { tenantId, userId } = requireMember(user);
    const limit = query.limit ?? LIST_DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    const items = await this.payments.list(tenantId, { userId: this.ownerFilter(user, userId), limit, offset });
    return { items: items.map(PaymentDto.from), limit, offset };
  }

  /** Someone else's payment, or another organisation's, is reported as missing: ids reveal nothing. */
  async get(user: AuthUser, id: string): Promise<PaymentDto> {
    const { tenantId, userId } = requireMember(user);
    const payment = await this.payments.findById(tenantId, id, this.ownerFilter(user, userId));
    if (!payment) throw paymentNotFound(id);
    return PaymentDto.from(payment);
  }

  private ownerFilter(user: AuthUser, userId: string): string | undefined {
    return user.roles.some((role) => ORGANISATION_WIDE_ROLES.includes(role)) ? undefined : userId;
  }

  /** Calls the provider outside any transaction (never hold a row lock across a network call), then records the outcome. */
  private async startCheckout(payment: PaymentEntity, plan: Plan, user: AuthUser): Promise<PaymentEntity> {
    let result;
    try {
      result = await this.provider.createCheckout({ paymentId: payment.id, userId: payment.userId, tenantId: payment.tenantId, plan });
    } catch (error) {
      this.logger.error(PaymentMessages.checkoutFailed(payment.id, error instanceof Error ? error.message : String(error)));
      await this.payments.markFailed(payment.tenantId, payment.id);
      throw new AppError(503, PaymentErrorCodes.providerFailed, PaymentMessages.providerFailed, { cause: error });
    }

    if (result.status === 'pending') {
      this.logger.log(PaymentMessages.checkoutPending(payment.id, plan.id));
      return this.payments.markCheckoutStarted(payment.tenantId, payment.id, {
        providerRef: result.providerRef,
        checkoutUrl: result.checkoutUrl ?? null,
      });
    }

    const end = periodEnd(plan.interval, new Date());
    const event: Payload<typeof Events.paymentSucceeded> = {
      paymentId: payment.id,
      userId: payment.userId,
      planId: plan.id,
      amountCents: payment.amountCents,
      currency: payment.currency,
      periodEnd: end.toISOString(),
    };
    const succeeded = await this.payments.markSucceeded(payment.tenantId, payment.id, {
      providerRef: result.providerRef,
      periodEnd: end,
      event,
      actor: { kind: 'user', id: user.userId, roles: [...user.roles] },
    });
    this.logger.log(PaymentMessages.checkoutSucceeded(payment.id, plan.id));
    return succeeded;
  }
}
