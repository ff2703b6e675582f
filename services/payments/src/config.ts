import { ConfigError, baseConfigSchema, envEnum, loadConfig } from '@rallyforge/service-kit';
import { z } from 'zod';
import { PaymentMessages } from './payments.constants';

export const PAYMENT_PROVIDERS = ['dev-instant', 'stripe'] as const;
/** Environments in which the dev-instant provider (completes checkouts without charging) may run. */
export const DEV_INSTANT_ENVIRONMENTS: readonly string[] = ['development', 'test'];

/**
 * Payments keeps its state (idempotency included) in PostgreSQL; REDIS_URL is for the kit's API rate limits only
 * (per address, user and tenant, counted in Redis like every other service's), so checkout is not unlimited.
 */
export const paymentsConfigSchema = baseConfigSchema.extend({
  /** No default: which processor takes money is never chosen by accident. */
  PAYMENT_PROVIDER: envEnum(PAYMENT_PROVIDERS),
});

export type PaymentsConfig = z.infer<typeof paymentsConfigSchema>;

/**
 * Loads and validates the payments configuration. Besides the per-variable checks of `loadConfig`, refuses
 * PAYMENT_PROVIDER=dev-instant outside development and test, naming the variable, so a misconfigured production
 * deployment fails at boot instead of handing out free subscriptions (and `stripe`, until its provider exists).
 */
export function loadPaymentsConfig(env: Record<string, string | undefined> = process.env): PaymentsConfig {
  const config = loadConfig(paymentsConfigSchema, env);
  if (config.PAYMENT_PROVIDER === 'dev-instant' && !DEV_INSTANT_ENVIRONMENTS.includes(config.NODE_ENV)) {
    throw new ConfigError([{ variable: 'PAYMENT_PROVIDER', message: `PAYMENT_PROVIDER: ${PaymentMessages.devInstantRefused(config.NODE_ENV)}` }]);
  }
  if (config.PAYMENT_PROVIDER === 'stripe') {
    throw new ConfigError([{ variable: 'PAYMENT_PROVIDER', message: `PAYMENT_PROVIDER: ${PaymentMessages.stripeNotAvailable}` }]);
  }
  return config;
}
