import { CreateCheckoutRequest, CreateCheckoutResult, PaymentProvider } from './payment-provider';

/**
 * Completes every checkout at once without charging anyone. Only for development and tests: the config refuses
 * PAYMENT_PROVIDER=dev-instant unless NODE_ENV is development or test.
 */
export class DevInstantPaymentProvider implements PaymentProvider {
  readonly name = 'dev-instant' as const;

  async createCheckout(request: CreateCheckoutRequest): Promise<CreateCheckoutResult> {
    // Deterministic per payment: calling again for the same payment yields the same reference.
    return { status: 'succeeded', providerRef: `dev_${request.paymentId}` };
  }
}
