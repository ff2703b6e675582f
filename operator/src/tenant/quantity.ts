/**
 * Quantities of core/v1 resource lists (a ResourceQuota's `spec.hard`) in the form the API server stores them
 * (apimachinery's Quantity.CanonicalizeBytes, after core/v1 rounds them up to milli precision), for the forms the
 * CRD admits (`^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`). The API server stores `0.5` as `500m` and
 * `1024Mi` as `1Gi`: an object applied with the user's spelling never looks converged next to what the server
 * keeps, and would be written again on every reconcile.
 */

const DECIMAL_SUFFIXES: Record<string, number> = { m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL_BY_EXPONENT: Record<number, string> = { [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const QUANTITY = /^([0-9]+)(?:\.([0-9]+))?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MILLIS_PER_UNIT = 1000n;

export class QuantityFormatError extends Error {
  override readonly name = 'QuantityFormatError';
}

/** `quantity` as the API server stores it: `0.5` → `500m`, `1024Mi` → `1Gi`, `2000` → `2k`, `0.0001` → `1m`. */
export function canonicalQuantity(quantity: string): string {
  const match = QUANTITY.exec(quantity);
  if (!match) throw new QuantityFormatError(`"${quantity}" is not a quantity the RallyForgeTenant CRD admits (for example 500m, 2, 4Gi).`);
  const [, whole, fraction = '', suffix = ''] = match;
  const binary = BINARY_SUFFIXES.indexOf(suffix) > 0;
  // The exact value in milli-units, rounded up past milli precision as the API server rounds resource lists.
  const digits = BigInt(`${whole}${fraction}`);
  const scale = 10n ** BigInt(fraction.length);
  const multiplier = binary ? 1024n ** BigInt(BINARY_SUFFIXES.indexOf(suffix)) : 1n;
  const exponent = binary ? 0 : DECIMAL_SUFFIXES[suffix]!;
  const numerator = digits * multiplier * MILLIS_PER_UNIT * (exponent >= 0 ? 10n ** BigInt(exponent) : 1n);
  const denominator = scale * (exponent < 0 ? 10n ** BigInt(-exponent) : 1n);
  const millis = (numerator + denominator - 1n) / denominator;
  if (millis === 0n) return '0';

  // Binary suffixes stay binary for whole numbers of at least 1024; anything else is written in decimal SI.
  if (binary && millis % MILLIS_PER_UNIT === 0n && millis / MILLIS_PER_UNIT >= 1024n) {
    let value = millis / MILLIS_PER_UNIT;
    let power = 0;
    while (power < BINARY_SUFFIXES.length - 1 && value % 1024n === 0n) {
      value /= 1024n;
      power += 1;
    }
    return `${value}${BINARY_SUFFIXES[power]}`;
  }
  let mantissa = millis;
  let power = -3;
  while (power < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    power += 3;
  }
  return `${mantissa}${DECIMAL_BY_EXPONENT[power]}`;
}
