import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { bayesianTest } from './bayesian';
import type { ComparisonInput } from './comparison';
import { frequentistTest } from './frequentist';
import { metricMoments, metricSummarySchema } from './metric-summary';
import { sampleRatioMismatch, sampleRatioVerdict } from './sample-ratio-mismatch';

const control = { kind: 'mean' as const, count: 100, sum: 500, sumSquares: 2_900 };
const treatment = { kind: 'mean' as const, count: 100, sum: 550, sumSquares: 3_400 };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

function compare(overrides: Partial<Record<keyof ComparisonInput, unknown>>): string {
  return refusal(() => frequentistTest({ control, treatment, ...overrides } as ComparisonInput));
}

describe('malformed summary statistics are refused with a message that says what to fix', () => {
  it('negative and fractional counts', () => {
    expect(compare({ control: { ...control, count: -3 } })).toMatch(/control\.count: must not be negative/);
    expect(compare({ treatment: { ...treatment, count: 10.5 } })).toMatch(/treatment\.count: must be a whole number/);
  });

  it('a sum of squares below sum² / count (a negative variance)', () => {
    expect(compare({ control: { ...control, sumSquares: 2_400 } })).toMatch(
      /control\.sumSquares: sumSquares is below sum² \/ count, so the values would have a negative variance/,
    );
    expect(compare({ control: { ...control, sumSquares: -1 } })).toMatch(/control\.sumSquares: must not be negative/);
  });

  it('sums over no units', () => {
    expect(compare({ control: { ...control, count: 0 } })).toMatch(/control\.sum: must be 0 when count is 0/);
  });

  it('binomial successes beyond the count, and a sum of squares that is not the sum', () => {
    const binomial = { kind: 'binomial', count: 10, sum: 3 };
    expect(compare({ control: { ...binomial, sum: 11 }, treatment: binomial })).toMatch(/must not exceed count \(10\)/);
    expect(compare({ control: { ...binomial, sumSquares: 4 }, treatment: binomial })).toMatch(/must equal sum/);
    expect(metricSummarySchema.parse({ ...binomial, sumSquares: 3 })).toMatchObject(binomial);
  });

  it('ratio metrics: a zero denominator, and a cross product no real data can give', () => {
    const ratio = {
      kind: 'ratio',
      count: 4,
      sum: 10,
      sumSquares: 30,
      denominatorSum: 8,
      denominatorSumSquares: 18,
      mainDenominatorSumProduct: 21,
    };
    expect(metricMoments(metricSummarySchema.parse(ratio)).mean).toBe(10 / 8);
    expect(compare({ control: { ...ratio, denominatorSum: 0 }, treatment: ratio })).toMatch(
      /control\.denominatorSum: must be positive: a ratio over a zero/,
    );
    expect(compare({ control: { ...ratio, mainDenominatorSumProduct: 60 }, treatment: ratio })).toMatch(
      /control\.mainDenominatorSumProduct: implies a numerator–denominator correlation beyond ±1/,
    );
  });

  it('control and treatment of different kinds, an alpha outside (0, 0.5), a prior without spread', () => {
    expect(compare({ treatment: { kind: 'binomial', count: 100, sum: 5 } })).toMatch(/same kind of metric/);
    expect(compare({ alpha: 0.9 })).toMatch(/alpha: must be below 0\.5/);
    expect(refusal(() => bayesianTest({ control, treatment, prior: { mean: 0, standardDeviation: 0 } }))).toMatch(
      /prior\.standardDeviation: must be positive/,
    );
  });

  it('sample-ratio input: one weight per count, positive weights, whole counts', () => {
    expect(refusal(() => sampleRatioMismatch({ counts: [10, 20], weights: [1, 1, 1] }))).toMatch(
      /one weight per variation/,
    );
    expect(refusal(() => sampleRatioMismatch({ counts: [10, 20], weights: [1, 0] }))).toMatch(
      /weights\.1: must be positive/,
    );
    expect(refusal(() => sampleRatioMismatch({ counts: [10, -2], weights: [1, 1] }))).toMatch(
      /counts\.1: must not be negative/,
    );
  });
});

describe('data that supports no effect is inconclusive, with its reason', () => {
  it('too few units, a zero or negative baseline, zero variance', () => {
    const one = { kind: 'mean' as const, count: 1, sum: 5, sumSquares: 25 };
    expect(frequentistTest({ control: one, treatment })).toMatchObject({
      status: 'inconclusive',
      reason: 'too_few_units',
    });
    const zeroBaseline = { kind: 'binomial' as const, count: 500, sum: 0 };
    const some = { kind: 'binomial' as const, count: 500, sum: 7 };
    expect(frequentistTest({ control: zeroBaseline, treatment: some })).toMatchObject({ reason: 'baseline_zero' });
    expect(bayesianTest({ control: zeroBaseline, treatment: some })).toMatchObject({ reason: 'baseline_zero' });
    // The absolute difference needs no baseline.
    expect(frequentistTest({ control: zeroBaseline, treatment: some, differenceType: 'absolute' })).toMatchObject({
      status: 'inconclusive',
      reason: 'zero_variance',
    });
    const negative = { kind: 'mean' as const, count: 100, sum: -500, sumSquares: 2_900 };
    expect(frequentistTest({ control: negative, treatment })).toMatchObject({ reason: 'baseline_negative' });
    expect(frequentistTest({ control: negative, treatment, differenceType: 'absolute' })).toMatchObject({
      status: 'ok',
    });
    const constant = { kind: 'mean' as const, count: 100, sum: 500, sumSquares: 2_500 };
    expect(bayesianTest({ control: constant, treatment })).toMatchObject({ reason: 'zero_variance' });
  });
});

describe('the sample-ratio verdict', () => {
  it('accepts a split within chance and refuses p < 0.001 with that reason', () => {
    expect(sampleRatioVerdict({ counts: [5_050, 4_950], weights: [1, 1] })).toMatchObject({ accepted: true });
    const refused = sampleRatioVerdict({ counts: [5_200, 4_800], weights: [1, 1] });
    expect(refused).toMatchObject({ accepted: false, reason: 'sample_ratio_mismatch' });
    if (refused.accepted) return;
    expect(refused.message).toMatch(/observed 5200 \/ 4800 units against an expected 5000\.0 \/ 5000\.0/);
    expect(refused.message).toMatch(/p = 6\.33e-5 < 0\.001/);
    expect(sampleRatioMismatch({ counts: [0, 0], weights: [1, 1] }).pValue).toBe(1);
  });
});
