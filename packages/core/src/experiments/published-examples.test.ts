import { describe, expect, it } from 'vitest';
import { expectClose } from './test-kit';
import { frequentistTest } from './frequentist';
import type { MetricSummary } from './metric-summary';
import { sampleRatioMismatch, sampleRatioVerdict } from './sample-ratio-mismatch';

/** Summary statistics of raw values, as an experimentation platform would send them. */
function meanSummary(values: number[]): MetricSummary {
  return {
    kind: 'mean',
    count: values.length,
    sum: values.reduce((sum, value) => sum + value, 0),
    sumSquares: values.reduce((sum, value) => sum + value * value, 0),
  };
}

/** Each case: the numbers as the source prints them, compared to the digits it prints. */
describe('the A/B statistics reproduce published worked examples', () => {
  it("Welch t-test: R's `t.test(extra ~ group, data = sleep)` (R datasets::sleep; Student 1908, Cushny & Peebles data)", () => {
    // R prints: t = -1.8608, df = 17.776, p-value = 0.07939, 95 % CI -3.3654832 0.2054832, means 0.75 and 2.33
    // (group 1 minus group 2; here control is group 1, so the signs turn).
    const group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    const result = frequentistTest({
      control: meanSummary(group1),
      treatment: meanSummary(group2),
      differenceType: 'absolute',
    });
    if (result.status !== 'ok') throw new Error(result.message);
    expectClose(result.control.mean, 0.75, 'mean of group 1', { absolute: 1e-12 });
    expectClose(result.treatment.mean, 2.33, 'mean of group 2', { absolute: 1e-12 });
    expectClose(result.statistic, 1.8608, 't', { absolute: 5e-5 });
    expectClose(result.degreesOfFreedom, 17.776, 'df', { absolute: 5e-4 });
    expectClose(result.pValueTwoSided, 0.07939, 'p', { absolute: 5e-6 });
    expectClose(result.interval.lower, -0.2054832, 'CI lower', { absolute: 5e-8 });
    expectClose(result.interval.upper, 3.3654832, 'CI upper', { absolute: 5e-8 });
  });

  it('two-proportion interval: Physicians’ Health Study, aspirin and myocardial infarction (Agresti 2007, §2.2.3)', () => {
    // Agresti, An Introduction to Categorical Data Analysis, 2nd ed., Table 2.3: placebo 189 of 11,034,
    // aspirin 104 of 11,037. Difference 0.0171 - 0.0094 = 0.0077, SE 0.0015, 95 % CI (0.005, 0.011);
    // relative risk 1.82.
    const aspirin = { kind: 'binomial' as const, count: 11_037, sum: 104 };
    const placebo = { kind: 'binomial' as const, count: 11_034, sum: 189 };
    const absolute = frequentistTest({ control: aspirin, treatment: placebo, differenceType: 'absolute' });
    if (absolute.status !== 'ok') throw new Error(absolute.message);
    expect(absolute.distribution).toBe('normal');
    expectClose(absolute.effect, 0.0077, 'difference of proportions', { absolute: 5e-5 });
    expectClose(absolute.standardError, 0.0015, 'standard error', { absolute: 5e-5 });
    expectClose(absolute.interval.lower, 0.005, 'CI lower', { absolute: 5e-4 });
    expectClose(absolute.interval.upper, 0.011, 'CI upper', { absolute: 5e-4 });
    const relative = frequentistTest({ control: aspirin, treatment: placebo });
    if (relative.status !== 'ok') throw new Error(relative.message);
    expectClose(relative.effect + 1, 1.82, 'relative risk', { absolute: 5e-3 });
  });

  it('sample-ratio mismatch: Kohavi, Tang & Xu 2020, Trustworthy Online Controlled Experiments, ch. 3', () => {
    // A 50/50 experiment with 821,588 control and 815,482 treatment users (ratio 0.993): p-value 1.8e-6.
    const input = { counts: [821_588, 815_482], weights: [0.5, 0.5] };
    expectClose(sampleRatioMismatch(input).pValue, 1.8e-6, 'SRM p-value', { absolute: 5e-8 });
    const verdict = sampleRatioVerdict(input);
    expect(verdict.accepted).toBe(false);
  });
});
