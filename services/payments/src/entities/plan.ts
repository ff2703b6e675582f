/** How often a subscription plan is billed. */
export type PlanInterval = 'month' | 'year';

/** A subscription plan a user can check out. Plans are a platform-wide catalog, not tenant-owned rows. */
export interface Plan {
  readonly id: string;
  readonly name: string;
  readonly amountCents: number;
  /** ISO 4217, upper case. */
  readonly currency: string;
  readonly interval: PlanInterval;
}

/**
 * The catalog the service ships with. Prices live in code for now (a migration would move them to a table);
 * `PlanRepository` is the only reader, so that change stays local.
 */
export const DEFAULT_PLANS: readonly Plan[] = [
  { id: 'basic-monthly', name: 'Basic', amountCents: 999, currency: 'USD', interval: 'month' },
  { id: 'pro-monthly', name: 'Pro', amountCents: 2499, currency: 'USD', interval: 'month' },
  { id: 'pro-yearly', name: 'Pro (yearly)', amountCents: 24990, currency: 'USD', interval: 'year' },
];

/** End of the paid period that starts at `from`: one calendar month or year later (UTC). */
export function periodEnd(interval: PlanInterval, from: Date): Date {
  const end = new Date(from.getTime());
  if (interval === 'month') {
    const day = end.getUTCDate();
    end.setUTCDate(1);
    end.setUTCMonth(end.getUTCMonth() + 1);
    // Jan 31 + 1 month is Feb 28/29, not Mar 3.
    const lastDay = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate();
    end.setUTCDate(Math.min(day, lastDay));
  } else {
    const month = end.getUTCMonth();
    end.setUTCFullYear(end.getUTCFullYear() + 1);
    // Feb 29 + 1 year is Feb 28.
    if (end.getUTCMonth() !== month) end.setUTCDate(0);
  }
  return end;
}
