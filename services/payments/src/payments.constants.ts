/**
 * Named defaults, error codes and messages of the payments service, in one place (nest's `RQM_DEFAULT_*` idea),
 * so tests and log searches refer to the same values as the code.
 */

export const SERVICE_NAME = 'payments';

/** Roles whose holders see every payment of their organisation; everyone else sees only their own. */
export const ORGANISATION_WIDE_ROLES: readonly string[] = ['org_admin'];

/** Stripe's own limit for idempotency keys; printable ASCII only, so a key is safe in logs and indexes. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 100;

/** Stable codes of user-facing errors (the `code` of the error body). */
export const PaymentErrorCodes = {
  planNotFound: 'PLAN_NOT_FOUND',
  paymentNotFound: 'PAYMENT_NOT_FOUND',
  invalidIdempotencyKey: 'INVALID_IDEMPOTENCY_KEY',
  idempotencyKeyReused: 'IDEMPOTENCY_KEY_REUSED',
  providerFailed: 'PAYMENT_PROVIDER_FAILED',
  tokenWithoutTenant: 'TENANT_REQUIRED',
} as const;

export const PaymentMessages = {
  planNotFound: (planId: string) =>
    `Plan "${planId}" does not exist; GET /api/v1/payments/plans lists the plans you can check out`,
  paymentNotFound: (id: string) => `Payment ${id} does not exist or is not yours`,
  invalidIdempotencyKey: 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces',
  idempotencyKeyReused: (planId: string) =>
    `This Idempotency-Key was already used for a checkout of plan "${planId}"; send a new key for a different request`,
  providerFailed: 'The payment provider could not start the checkout; nothing was charged, try again later',
  tokenWithoutTenant: 'Your access token names no organisation; sign in again through your organisation',
  devInstantRefused: (nodeEnv: string) =>
    `PAYMENT_PROVIDER=dev-instant completes every checkout without charging anyone, so it is only allowed with ` +
    `NODE_ENV=development or NODE_ENV=test (NODE_ENV is "${nodeEnv}"); set PAYMENT_PROVIDER=stripe in this environment`,
  stripeNotAvailable:
    'PAYMENT_PROVIDER=stripe is not implemented yet; use PAYMENT_PROVIDER=dev-instant with NODE_ENV=development or test',
  checkoutSucceeded: (paymentId: string, planId: string) => `Completed payment ${paymentId} for plan ${planId}`,
  checkoutPending: (paymentId: string, planId: string) => `Started checkout ${paymentId} for plan ${planId}`,
  checkoutFailed: (paymentId: string, error: string) => `Payment provider failed checkout ${paymentId}: ${error}`,
} as const;
