import { DEFAULT_PLANS, periodEnd } from './plan';

describe('periodEnd', () => {
  it('adds one calendar month', () => {
    expect(periodEnd('month', new Date('2026-03-15T10:00:00.000Z')).toISOString()).toBe('2026-04-15T10:00:00.000Z');
  });

  it('clamps to the last day of a shorter month', () => {
    expect(periodEnd('month', new Date('2026-01-31T00:00:00.000Z')).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(periodEnd('month', new Date('2028-01-31T00:00:00.000Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('rolls over the year in December', () => {
    expect(periodEnd('month', new Date('2026-12-20T00:00:00.000Z')).toISOString()).toBe('2027-01-20T00:00:00.000Z');
  });

  it('adds one year, clamping Feb 29', () => {
    expect(periodEnd('year', new Date('2026-05-01T00:00:00.000Z')).toISOString()).toBe('2027-05-01T00:00:00.000Z');
    expect(periodEnd('year', new Date('2028-02-29T00:00:00.000Z')).toISOString()).toBe('2029-02-28T00:00:00.000Z');
  });
});

describe('DEFAULT_PLANS', () => {
  it('has unique ids, whole non-negative cents and ISO currencies', () => {
    expect(new Set(DEFAULT_PLANS.map((p) => p.id)).size).toBe(DEFAULT_PLANS.length);
    for (const plan of DEFAULT_PLANS) {
      expect(Number.isInteger(plan.amountCents) && plan.amountCents >= 0).toBe(true);
      expect(plan.currency).toMatch(/^[A-Z]{3}$/);
    }
    expect(DEFAULT_PLANS.find((p) => p.id === 'basic-monthly')).toMatchObject({ amountCents: 999, currency: 'USD', interval: 'month' });
  });
});
