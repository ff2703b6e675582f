import { Backoff, backoffDelay, nextRetryDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: false };

  it('grows exponentially from the initial delay', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, options))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the cap, even for absurd attempt counts', () => {
    expect(backoffDelay(4, options)).toBe(1000);
    expect(backoffDelay(10_000, options)).toBe(1000);
  });

  it('jitters within [delay/2, delay]', () => {
    const jittered = { ...options, jitter: true };
    expect(backoffDelay(2, jittered, () => 0)).toBe(200);
    expect(backoffDelay(2, jittered, () => 0.999999)).toBe(400);
    expect(backoffDelay(2, jittered, () => 0.5)).toBe(300);
  });

  it('treats negative or fractional attempts as the first', () => {
    expect(backoffDelay(-3, options)).toBe(100);
    expect(backoffDelay(1.7, options)).toBe(200);
  });
});

describe('Backoff', () => {
  it('returns successive delays until reset', () => {
    const backoff = new Backoff({ initialDelayMs: 10, maxDelayMs: 35, jitter: false });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 35, 35]);
    expect(backoff.attempts).toBe(4);
    backoff.reset();
    expect(backoff.next()).toBe(10);
  });
});

describe('nextRetryDelay', () => {
  const delays = [1000, 5000, 30000];

  it('schedules one delayed retry per configured delay, then parks', () => {
    expect(nextRetryDelay(1, delays)).toBe(1000);
    expect(nextRetryDelay(2, delays)).toBe(5000);
    expect(nextRetryDelay(3, delays)).toBe(30000);
    expect(nextRetryDelay(4, delays)).toBeUndefined();
  });

  it('parks at once when no retries are configured', () => {
    expect(nextRetryDelay(1, [])).toBeUndefined();
  });

  it('treats an unreadable attempt as the first delivery', () => {
    expect(nextRetryDelay(0, delays)).toBe(1000);
    expect(nextRetryDelay(Number.NaN, delays)).toBe(1000);
  });
});

describe('sleep', () => {
  it('ends early when its signal aborts', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, abort.signal);
    abort.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
