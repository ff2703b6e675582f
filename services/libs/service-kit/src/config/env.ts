import { z } from 'zod';

/**
 * Builders for environment-variable fields. Each one carries a `describe()` text that `loadConfig` puts after
 * "expected" when the variable is wrong, so every message names what a good value looks like.
 */

/** An integer, given as a decimal string. */
export function envInt(options: { min: number; max: number; default?: number }) {
  const expected =
    options.max === Number.MAX_SAFE_INTEGER
      ? `an integer of at least ${options.min}`
      : `an integer between ${options.min} and ${options.max}`;
  const base = z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value),
    z.number().int().min(options.min).max(options.max),
  );
  return (options.default === undefined ? base : base.default(options.default)).describe(expected);
}

/** A URL whose scheme is one of `protocols` (with the trailing colon: `postgres:`). */
export function envUrl(protocols: readonly string[], expected: string) {
  return z
    .string()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    })
    .describe(expected);
}

/** One of a fixed set of words. */
export function envEnum<const T extends readonly [string, ...string[]]>(values: T, defaultValue?: T[number]) {
  const base = z.enum(values);
  const expected = `one of ${values.join(', ')}`;
  return (defaultValue === undefined ? base : base.default(defaultValue as never)).describe(expected);
}

/** A comma-separated list of browser origins (`https://app.example.org`), never `*`. */
export function envOriginList() {
  return z
    .preprocess(
      (value) =>
        typeof value === 'string'
          ? value
              .split(',')
              .map((item) => item.trim())
              .filter((item) => item.length > 0)
          : value,
      z.array(
        z.string().refine((origin) => {
          try {
            const url = new URL(origin);
            return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin;
          } catch {
            return false;
          }
        }),
      ),
    )
    .default([])
    .describe('a comma-separated list of origins such as https://app.example.org (no wildcard, no path)');
}
