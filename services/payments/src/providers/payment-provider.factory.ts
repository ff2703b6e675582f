import type { Provider } from '@nestjs/common';
import { SERVICE_CONFIG } from '@rallyforge/service-kit';
import { DEV_INSTANT_ENVIRONMENTS, type PaymentsConfig } from '../config';
import { PaymentMessages } from '../payments.constants';
import { DevInstantPaymentProvider } from './dev-instant-payment.provider';
import { PAYMENT_PROVIDER, type PaymentProvider } from './payment-provider';

/**
 * The provider PAYMENT_PROVIDER names. The environment rule is checked again here (not only in the config
 * loader), so no code path can construct the free provider in production.
 */
export function createPaymentProvider(config: Pick<PaymentsConfig, 'PAYMENT_PROVIDER' | 'NODE_ENV'>): PaymentProvider {
  switch (config.PAYMENT_PROVIDER) {
    case 'dev-instant':
      if (!DEV_INSTANT_ENVIRONMENTS.includes(config.NODE_ENV)) throw new Error(PaymentMessages.devInstantRefused(config.NODE_ENV));
      return new DevInstantPaymentProvider();
    case 'stripe':
      throw new Error(PaymentMessages.stripeNotAvailable);
  }
}

export const paymentProviderProvider: Provider = {
  provide: PAYMENT_PROVIDER,
  inject: [SERVICE_CONFIG],
  useFactory: (config: PaymentsConfig) => createPaymentProvider(config),
};
