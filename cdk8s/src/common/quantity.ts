/** Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `10Gi`, `2e3` is not supported) as numbers. */

const SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** True for the quantities {@link parseQuantity} reads (the form the RallyForgeTenant schema accepts). */
export function isQuantity(value: string): boolean {
  return QUANTITY.test(value);
}

/**
 * The value of a quantity in base units: cores for CPU (`250m` is 0.25), bytes for memory and storage
 * (`512Mi` is 536870912).
 * @throws Error when `value` is not a quantity
 */
export function parseQuantity(value: string): number {
  const match = QUANTITY.exec(value);
  if (!match) {
    throw new Error(`"${value}" is not a Kubernetes quantity (for example "250m", "2", "512Mi", "10Gi").`);
  }
  return Number(match[1]) * SUFFIXES[match[2] ?? ''];
}
