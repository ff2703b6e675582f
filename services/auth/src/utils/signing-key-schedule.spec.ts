import { needsNewKey, pickSigningKey, publishedKeys, retirementFor, ScheduledKey } from './signing-key-schedule';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const settings = { rotationMs: 30 * DAY, prepublishMs: DAY, graceMs: DAY };
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const key = (kid: string, createdMs: number, retiresMs: number): ScheduledKey => ({
  kid,
  createdAt: at(createdMs),
  retiresAt: at(retiresMs),
});

describe('signing key schedule', () => {
  it('needs a first key when there are none, and gives it a full period', () => {
    expect(needsNewKey([], t0, settings)).toBe(true);
    expect(pickSigningKey([], t0)).toBeUndefined();
    expect(retirementFor([], t0, settings)).toEqual(at(30 * DAY));
  });

  it('creates the successor one prepublish window before the current key retires, chained to its retirement', () => {
    const current = key('a', 0, 30 * DAY);
    expect(needsNewKey([current], at(28 * DAY), settings)).toBe(false);
    expect(needsNewKey([current], at(29 * DAY + HOUR), settings)).toBe(true);
    expect(retirementFor([current], at(29 * DAY + HOUR), settings)).toEqual(at(60 * DAY));
  });

  it('keeps signing with the current key while the successor is only published', () => {
    const current = key('a', 0, 30 * DAY);
    const next = key('b', 29 * DAY, 60 * DAY);
    expect(pickSigningKey([next, current], at(29 * DAY + HOUR))?.kid).toBe('a');
    expect(pickSigningKey([next, current], at(30 * DAY + 1))?.kid).toBe('b');
    expect(publishedKeys([current, next], at(29 * DAY + HOUR), settings).map((k) => k.kid)).toEqual(['b', 'a']);
  });

  it('publishes a retired key for the grace period only', () => {
    const old = key('a', 0, 30 * DAY);
    const current = key('b', 29 * DAY, 60 * DAY);
    expect(publishedKeys([old, current], at(30 * DAY + HOUR), settings).map((k) => k.kid)).toEqual(['b', 'a']);
    expect(publishedKeys([old, current], at(31 * DAY + 1), settings).map((k) => k.kid)).toEqual(['b']);
  });

  it('after a long outage starts a fresh period from now', () => {
    const stale = key('a', 0, 30 * DAY);
    expect(needsNewKey([stale], at(90 * DAY), settings)).toBe(true);
    expect(retirementFor([stale], at(90 * DAY), settings)).toEqual(at(120 * DAY));
  });
});
