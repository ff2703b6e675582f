import { FakeClock } from './testing/fake-clock';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  TokenBucket,
} from './rate-limiter';

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles from 5 ms per failure of the same item and caps at 1000 s', () => {
    const limiter = new ItemExponentialFailureRateLimiter();
    const delays = Array.from({ length: 20 }, () => limiter.when('ns/a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    // 5 ms × 2^17 = 655.36 s; the next doubling would be 1310.72 s, above the cap.
    expect(delays[17]).toBe(655_360);
    expect(delays.slice(18)).toEqual([1_000_000, 1_000_000]);
    expect(limiter.numRequeues('ns/a')).toBe(20);
  });

  it('keeps a separate history per item and never overflows', () => {
    const limiter = new ItemExponentialFailureRateLimiter({ baseDelayMs: 1, maxDelayMs: 1000 });
    for (let i = 0; i < 5000; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1000);
    expect(limiter.when('b')).toBe(1);
  });

  it('starts over after forget', () => {
    const limiter = new ItemExponentialFailureRateLimiter();
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('rejects a base delay above the maximum', () => {
    expect(() => new ItemExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(
      /base delay must be positive and no larger than the maximum/,
    );
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then spaces reservations 1/qps apart', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 100, clock);
    const waits = Array.from({ length: 103 }, () => bucket.reserve());
    expect(waits.slice(0, 100).every((w) => w === 0)).toBe(true);
    expect(waits.slice(100)).toEqual([100, 200, 300]);
  });

  it('refills at qps up to burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(20, 30, clock);
    for (let i = 0; i < 30; i++) bucket.reserve();
    await clock.advance(500); // 10 tokens back
    const waits = Array.from({ length: 11 }, () => bucket.reserve());
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits[10]).toBe(50);
    await clock.advance(60_000); // a long pause refills to burst, not beyond
    expect(Array.from({ length: 31 }, () => bucket.reserve()).filter((w) => w > 0)).toEqual([50]);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('waits for the longer of per-item backoff and the overall bucket', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter({ clock });
    // 100 different items fit the burst: each waits only its own first backoff.
    for (let i = 0; i < 100; i++) expect(limiter.when(`item-${i}`)).toBe(5);
    // The 101st request in the same instant waits for the bucket (100 ms at 10 qps), not for its 5 ms backoff.
    expect(limiter.when('item-100')).toBe(100);
    // A long backoff wins over the bucket.
    const slow = defaultControllerRateLimiter({ clock });
    for (let i = 0; i < 10; i++) slow.when('x');
    expect(slow.when('x')).toBe(5 * 2 ** 10);
    expect(slow.numRequeues('x')).toBe(11);
  });

  it('forgets through every limiter', () => {
    const limiter = new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(), new BucketRateLimiter());
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.when('a')).toBe(5);
  });
});
