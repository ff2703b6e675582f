import { canonicalQuantity, QuantityFormatError } from './quantity';

// Each pair as the local kube-apiserver (v1.36) stores it in a ResourceQuota's spec.hard.
describe('canonicalQuantity (as the API server stores resource quantities)', () => {
  it.each([
    ['0.5', '500m'],
    ['500m', '500m'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['1.5', '1500m'],
    ['8', '8'],
    ['2000', '2k'],
    ['20000', '20k'],
    ['1500', '1500'],
    ['0.0001', '1m'],
    ['1.0000000001', '1001m'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['16Gi', '16Gi'],
    ['1.5Ki', '1536'],
    ['512Ki', '512Ki'],
    ['0.5Ki', '512'],
    ['1Ki', '1Ki'],
    ['3M', '3M'],
    ['1000k', '1M'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalQuantity(input)).toBe(canonical);
  });

  it('refuses what the CRD refuses, saying what a quantity looks like', () => {
    expect(() => canonicalQuantity('-1')).toThrow(QuantityFormatError);
    expect(() => canonicalQuantity('1e3')).toThrow(/is not a quantity the RallyForgeTenant CRD admits \(for example 500m, 2, 4Gi\)/);
  });
});
