import { DevInstantPaymentProvider } from './dev-instant-payment.provider';
import { createPaymentProvider } from './payment-provider.factory';

describe('createPaymentProvider', () => {
  it('creates the dev-instant provider in development and test', () => {
    expect(createPaymentProvider({ PAYMENT_PROVIDER: 'dev-instant', NODE_ENV: 'test' })).toBeInstanceOf(DevInstantPaymentProvider);
    expect(createPaymentProvider({ PAYMENT_PROVIDER: 'dev-instant', NODE_ENV: 'development' })).toBeInstanceOf(DevInstantPaymentProvider);
  });

  it('never creates the dev-instant provider in production, whatever the config loader let through', () => {
    expect(() => createPaymentProvider({ PAYMENT_PROVIDER: 'dev-instant', NODE_ENV: 'production' })).toThrow(/PAYMENT_PROVIDER=dev-instant/);
  });

  it('says that stripe is not available yet', () => {
    expect(() => createPaymentProvider({ PAYMENT_PROVIDER: 'stripe', NODE_ENV: 'production' })).toThrow(/not implemented yet/);
  });
});

describe('DevInstantPaymentProvider', () => {
  it('succeeds at once with a reference derived from the payment id (idempotent per payment)', async () => {
    const provider = new DevInstantPaymentProvider();
    const request = {
      paymentId: '6f1c1d1e-0000-4000-8000-000000000001',
      userId: '6f1c1d1e-0000-4000-8000-000000000002',
      tenantId: 'demo',
      plan: { id: 'basic-monthly', name: 'Basic', amountCents: 999, currency: 'USD', interval: 'month' as const },
    };
    const first = await provider.createCheckout(request);
    expect(first).toEqual({ status: 'succeeded', providerRef: `dev_${request.paymentId}` });
    expect(await provider.createCheckout(request)).toEqual(first);
  });
});
