import { Plan } from '../entities/plan';

/** Injection token of the active `PaymentProvider` (chosen by PAYMENT_PROVIDER). */
export const PAYMENT_PROVIDER = Symbol('PAYMENT_PROVIDER');

export type PaymentProviderName = 'dev-instant' | 'stripe';

export interface CreateCheckoutRequest {
  /** Our payment id: providers store it (e.g. Stripe metadata / idempotency key) so retries never charge twice. */
  paymentId: string;
  userId: string;
  tenantId: string;
  plan: Plan;
}

export interface CreateCheckoutResult {
  /** `succeeded`: charged already (dev provider, saved card); `pending`: the user must finish at `checkoutUrl`. */
  status: 'succeeded' | 'pending';
  /** The provider's id of the checkout/charge, for reconciliation and webhooks. */
  providerRef: string;
  checkoutUrl?: string;
}

/**
 * A payment processor. Implementations must be idempotent per `paymentId`: the service may call `createCheckout`
 * again for the same payment after a crash.
 */
export interface PaymentProvider {
  readonly name: PaymentProviderName;
  createCheckout(request: CreateCheckoutRequest): Promise<CreateCheckoutResult>;
}
