import { parsePluginConfig, validateScoreResult, type ScoredResult } from '@tokenwise/plugin-sdk';
import { createTestContext, makeScoreInput } from '@tokenwise/plugin-sdk/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  abResults,
  confidenceExcludingZeroMin,
  confidenceIncludingZeroMax,
  intervalConfidence,
  type AbResultsConfigInput,
} from './index';
import { abEvidence, abPayload } from './testing';

/** A mean metric's sums for `count` units of the given mean and standard deviation. */
function meanSummary(count: number, mean: number, standardDeviation: number) {
  return {
    kind: 'mean' as const,
    count,
    sum: count * mean,
    sumSquares: (count - 1) * standardDeviation ** 2 + count * mean ** 2,
  };
}

const arm = fc.record({
  count: fc.integer({ min: 100, max: 50_000 }),
  mean: fc.double({ min: 0.5, max: 50, noNaN: true }),
  standardDeviation: fc.double({ min: 0.1, max: 50, noNaN: true }),
});

const configs = fc.record({
  method: fc.constantFrom('bayesian' as const, 'frequentist' as const),
  prior: fc.option(
    fc.record({
      mean: fc.double({ min: -0.5, max: 0.5, noNaN: true }),
      standardDeviation: fc.double({ min: 0.01, max: 1, noNaN: true }),
    }),
    { nil: undefined },
  ),
});

async function scoreOf(
  control: ReturnType<typeof meanSummary>,
  treatment: ReturnType<typeof meanSummary>,
  higherIsBetter: boolean,
  defaults: NonNullable<AbResultsConfigInput['defaults']>,
) {
  // Weights in proportion to the counts: the split matches, so the sample-ratio check passes.
  const payload = abPayload({ control, treatment, higherIsBetter, weights: [control.count, treatment.count] });
  const input = makeScoreInput({
    createdAt: new Date('2025-01-01T00:00:00Z'),
    config: parsePluginConfig(abResults, { defaults }),
    experiment: { experimentKey: 'checkout-button', variantKey: 'blue' },
    externalEvidence: [abEvidence(payload)],
  });
  return validateScoreResult(await abResults.score(input, createTestContext()));
}

describe('ab-results scores, for any result', () => {
  it('are a valid result with score and confidence in [0, 1]', async () => {
    await fc.assert(
      fc.asyncProperty(arm, arm, fc.boolean(), configs, async (control, treatment, higherIsBetter, config) => {
        const result = await scoreOf(
          meanSummary(control.count, control.mean, control.standardDeviation),
          meanSummary(treatment.count, treatment.mean, treatment.standardDeviation),
          higherIsBetter,
          { method: config.method, ...(config.prior === undefined ? {} : { prior: config.prior }) },
        );
        expect(result.status).toBe('scored');
        const { score, confidence } = result as ScoredResult;
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        expect(confidence).toBeGreaterThanOrEqual(0);
        expect(confidence).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it('never fall as the treatment mean rises when higher is better, and never rise when lower is better', async () => {
    await fc.assert(
      fc.asyncProperty(
        arm,
        arm,
        fc.double({ min: 0.5, max: 50, noNaN: true }),
        fc.constantFrom('bayesian' as const, 'frequentist' as const),
        async (control, treatment, otherMean, method) => {
          const [low, high] = [Math.min(treatment.mean, otherMean), Math.max(treatment.mean, otherMean)];
          const base = meanSummary(control.count, control.mean, control.standardDeviation);
          const at = (mean: number, higherIsBetter: boolean) =>
            scoreOf(base, meanSummary(treatment.count, mean, treatment.standardDeviation), higherIsBetter, {
              method,
            }).then((result) => (result as ScoredResult).score);
          expect(await at(high, true)).toBeGreaterThanOrEqual((await at(low, true)) - 1e-12);
          expect(await at(high, false)).toBeLessThanOrEqual((await at(low, false)) + 1e-12);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('confidence from the interval', () => {
  it('is at most 0.2 when the interval includes zero, at least 0.5 when it excludes it, and narrower is surer', () => {
    // Effects in steps of 0.001 %: subnormal bounds would only test rounding, not the rule.
    const finite = fc.integer({ min: -1e9, max: 1e9 }).map((steps) => steps / 1e5);
    fc.assert(
      fc.property(finite, finite, fc.double({ min: 0, max: 1, noNaN: true }), (a, b, shrink) => {
        const interval = { lower: Math.min(a, b), upper: Math.max(a, b) };
        const confidence = intervalConfidence(interval);
        expect(confidence).toBeGreaterThanOrEqual(0);
        expect(confidence).toBeLessThanOrEqual(1);
        if (interval.lower <= 0 && interval.upper >= 0)
          expect(confidence).toBeLessThanOrEqual(confidenceIncludingZeroMax);
        else expect(confidence).toBeGreaterThanOrEqual(confidenceExcludingZeroMin);
        // The same centre with a narrower interval is never less sure.
        const centre = (interval.lower + interval.upper) / 2;
        const halfWidth = ((interval.upper - interval.lower) / 2) * shrink;
        const narrower = intervalConfidence({ lower: centre - halfWidth, upper: centre + halfWidth });
        expect(narrower).toBeGreaterThanOrEqual(confidence - 1e-9);
      }),
      { numRuns: 2_000 },
    );
  });
});
