import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { co2eMicrogramsBound, requestEmissions } from './request-emissions';

/**
 * The admission holds `co2eMicrogramsBound` against the carbon caps before the request runs, and
 * the charge posts the actual total afterwards: the charge must never exceed the hold, whatever
 * latency is measured and however many tokens (up to the bound) are generated.
 */
describe('the carbon bound covers operational + embodied for any latency', () => {
  const modelArb = fc
    .record({
      totalParamsBillions: fc.double({ min: 0.1, max: 2_000, noNaN: true }),
      activeShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
      tokensPerSecond: fc.option(fc.double({ min: 0.5, max: 5_000, noNaN: true }), { nil: undefined }),
    })
    .map(({ totalParamsBillions, activeShare, tokensPerSecond }) => ({
      totalParamsBillions,
      activeParamsBillions: Math.min(totalParamsBillions, Math.max(1e-3, totalParamsBillions * activeShare)),
      ...(tokensPerSecond === undefined ? {} : { tokensPerSecond }),
    }));
  const clusterArb = fc.record({
    region: fc.constant('r'),
    gridIntensityGCo2ePerKwh: fc.double({ min: 0, max: 2_000, noNaN: true }),
    marketGridIntensityGCo2ePerKwh: fc.option(fc.double({ min: 0, max: 2_000, noNaN: true }), { nil: undefined }),
    overrides: fc.record({ pue: fc.double({ min: 1, max: 3, noNaN: true }) }),
  });

  it('never charges more than the bound, and the total is operational + embodied exactly', () => {
    fc.assert(
      fc.property(
        modelArb,
        clusterArb,
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(undefined)),
        (model, cluster, a, b, latencySeconds) => {
          const [used, bound] = a <= b ? [a, b] : [b, a];
          const actual = requestEmissions(model, cluster, { outputTokens: used, latencySeconds });
          expect(actual.co2eMicrograms).toBe(actual.operationalCo2eMicrograms + actual.embodiedCo2eMicrograms);
          expect(actual.co2eMicrograms).toBeLessThanOrEqual(co2eMicrogramsBound(model, cluster, bound));
          expect(actual.embodiedCo2eMicrograms).toBeGreaterThanOrEqual(0n);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
