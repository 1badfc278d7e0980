import { sampleRatioMismatch } from '@tokenwise/core';
import {
  type ExternalEvidence,
  type ScoredResult,
  parsePluginConfig,
  rationaleCharsMax,
  reasonCharsMax,
  validateScoreResult,
} from '@tokenwise/plugin-sdk';
import { createTestContext, makeScoreInput } from '@tokenwise/plugin-sdk/testing';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import abResultsDefault, { abResults, abResultsConfigSchema, type AbResultsConfigInput } from './index';
import { abEvidence, abPayload, mergedPrShare, revenuePerUser } from './testing';

const createdAt = new Date('2025-01-01T00:00:00Z');
const blue = { experimentKey: 'checkout-button', variantKey: 'blue' };

async function score(
  evidence: ExternalEvidence[],
  options: { config?: AbResultsConfigInput; experiment?: typeof blue | null; now?: Date } = {},
) {
  const input = makeScoreInput({
    createdAt,
    config: parsePluginConfig(abResults, options.config ?? {}),
    ...(options.experiment === null ? {} : { experiment: options.experiment ?? blue }),
    externalEvidence: evidence,
  });
  const result = await abResults.score(
    input,
    createTestContext({ now: options.now ?? new Date('2025-01-06T00:00:00Z') }),
  );
  return validateScoreResult(result);
}

const scored = (result: Awaited<ReturnType<typeof score>>): ScoredResult => {
  expect(result.status).toBe('scored');
  return result as ScoredResult;
};

describe('the ab-results plugin definition', () => {
  it('default-exports a frozen plugin that waits up to 30 days, polled daily, with every config field defaulted', () => {
    expect(abResultsDefault).toBe(abResults);
    expect(abResults).toMatchObject({
      id: 'ab-results',
      evidenceWindowSeconds: 30 * 86_400,
      pollIntervalSeconds: 86_400,
    });
    expect(Object.isFrozen(abResults)).toBe(true);
    expect(parsePluginConfig(abResults, {})).toEqual({
      experiments: {},
      defaults: { controlKey: 'control', method: 'bayesian', minUnitsPerVariation: 100 },
      evidenceWindowDays: 30,
    });
  });

  it('shows its config as JSON Schema and refuses what a team admin might get wrong, naming the field', () => {
    const schema = z.toJSONSchema(abResultsConfigSchema, { io: 'input', unrepresentable: 'throw' });
    expect(JSON.stringify(schema)).toMatch(/decisionMetric/);
    const refuse = (raw: unknown) => expect(() => parsePluginConfig(abResults, raw));
    refuse({ evidenceWindowDays: 31 }).toThrow(/evidenceWindowDays/);
    refuse({ defaults: { method: 'thompson' } }).toThrow(/defaults\.method/);
    refuse({ experiments: { 'bad key!': {} } }).toThrow(/experiments/);
    refuse({ experiments: { checkout: { minUnitsPerVariation: 1 } } }).toThrow(/at least 2/);
    refuse({ experiments: { checkout: { prior: { mean: 0, standardDeviation: 0 } } } }).toThrow(/standardDeviation/);
    refuse({ experiments: { checkout: { controlKey: 'x'.repeat(65) } } }).toThrow(/controlKey/);
    refuse({ defaults: { decisionMetrik: 'revenue' } }).toThrow(/decisionMetrik/);
    const many = Object.fromEntries(Array.from({ length: 201 }, (_, index) => [`exp-${index}`, {}]));
    refuse({ experiments: many }).toThrow(/at most 200 experiments/);
  });
});

describe('which requests the plugin scores', () => {
  it('finds nothing to say about an untagged request', async () => {
    const result = await score([abEvidence(abPayload())], { experiment: null });
    expect(result).toEqual({ status: 'not_applicable', reason: expect.stringMatching(/no experiment tag/) });
  });

  it('gives control requests nothing, with the control key configured per experiment', async () => {
    const control = await score([abEvidence(abPayload())], {
      experiment: { experimentKey: 'checkout-button', variantKey: 'control' },
    });
    expect(control).toEqual({
      status: 'not_applicable',
      reason: expect.stringMatching(/Control requests earn nothing/),
    });
    const config = { experiments: { 'checkout-button': { controlKey: 'baseline' } } };
    const baseline = await score([], {
      experiment: { experimentKey: 'checkout-button', variantKey: 'baseline' },
      config,
    });
    expect(baseline.status).toBe('not_applicable');
    // Under that config "blue" is measured against "baseline": a result without it is not usable.
    const noBaseline = await score([abEvidence(abPayload())], { config });
    expect(noBaseline).toEqual({ status: 'pending', reason: expect.stringMatching(/no variation "baseline"/) });
  });

  it('waits while no result has come, and gives up once the team window has passed', async () => {
    expect(await score([])).toEqual({ status: 'pending', reason: expect.stringMatching(/No usable result .* yet/) });
    const late = await score([], { config: { evidenceWindowDays: 7 }, now: new Date('2025-01-08T00:00:01Z') });
    expect(late).toEqual({ status: 'not_applicable', reason: expect.stringMatching(/within the 7-day window/) });
  });
});

describe('which evidence is used', () => {
  it('ignores payloads that are no A/B result, other experiments, variants and metrics, saying why', async () => {
    const result = await score(
      [
        abEvidence({ v: 1, resultId: 'junk', lift: 0.5 }, undefined, 'junk'),
        abEvidence(abPayload({ resultId: 'other-exp', experimentKey: 'pricing-page' })),
        abEvidence(abPayload({ resultId: 'other-variant', variantKey: 'green' })),
        abEvidence(abPayload({ resultId: 'other-metric', metricId: 'latency' })),
      ],
      { config: { defaults: { decisionMetric: 'revenue' } } },
    );
    expect(result.status).toBe('pending');
    const reason = (result as { reason: string }).reason;
    expect(reason).toMatch(/ab-result-junk: not an A\/B result/);
    expect(reason).toMatch(/ab-result-other-exp: about experiment "pricing-page", not the request's "checkout-button"/);
    expect(reason).toMatch(/ab-result-other-variant: about variant "green"/);
    expect(reason).toMatch(/ab-result-other-metric: about metric "latency", not the decision metric "revenue"/);
  });

  it('without a decision metric, uses a result only while its metric is the only one seen for the experiment', async () => {
    const revenue = abEvidence(abPayload({ resultId: 'r-revenue' }));
    expect((await score([revenue])).status).toBe('scored');
    const both = await score([revenue, abEvidence(abPayload({ resultId: 'r-latency', metricId: 'latency' }))]);
    expect(both).toEqual({
      status: 'pending',
      reason: expect.stringMatching(/several metrics seen .* \(revenue, latency\) .* set one in the ab-results config/),
    });
    const decided = scored(
      await score([revenue, abEvidence(abPayload({ resultId: 'r-latency', metricId: 'latency' }))], {
        config: { experiments: { 'checkout-button': { decisionMetric: 'latency' } } },
      }),
    );
    expect(decided.evidence).toMatchObject({ resultId: 'r-latency', metricId: 'latency' });
  });

  it('scores the latest result by observedAt, whatever order they arrived in', async () => {
    const later = abEvidence(abPayload({ resultId: 'day-14' }), '2025-01-15T00:00:00.000Z');
    const earlier = abEvidence(
      abPayload({ resultId: 'day-7', treatment: mergedPrShare.treatment, control: mergedPrShare.control }),
      '2025-01-08T00:00:00.000Z',
    );
    const result = scored(await score([later, earlier], { now: new Date('2025-01-16T00:00:00Z') }));
    expect(result.evidence).toMatchObject({ resultId: 'day-14', evidenceId: 'ab-result-day-14' });
  });

  it('ignores a result observed after the team evidence window', async () => {
    const result = await score([abEvidence(abPayload(), '2025-01-09T00:00:00.000Z')], {
      config: { evidenceWindowDays: 7 },
      now: new Date('2025-01-07T00:00:00Z'),
    });
    expect(result).toEqual({ status: 'pending', reason: expect.stringMatching(/after the 7-day evidence window/) });
  });
});

describe('the relay eligibility verdicts', () => {
  it('scores nothing for a user not assigned to the variant, or a request outside the experiment dates', async () => {
    expect(await score([abEvidence(abPayload({ eligibility: { assigned: false } }))])).toEqual({
      status: 'not_applicable',
      reason: expect.stringMatching(/Not assigned/),
    });
    expect(await score([abEvidence(abPayload({ eligibility: { duringExperiment: false } }))])).toEqual({
      status: 'not_applicable',
      reason: expect.stringMatching(/Outside the experiment/),
    });
  });

  it('flags a self-submitted result and scores nothing', async () => {
    const result = await score([abEvidence(abPayload({ eligibility: { selfSubmitted: true } }))]);
    expect(result).toEqual({ status: 'not_applicable', reason: expect.stringMatching(/^self-submitted: /) });
  });
});

describe('reading a result', () => {
  it("scores GrowthBook's chance to win, and records what an experimentation team checks (gbstats 0.8.0 numbers)", async () => {
    const result = scored(await score([abEvidence(abPayload())]));
    expect(result.score).toBeCloseTo(revenuePerUser.gbstats.bayesian.chanceToWin, 9);
    const evidence = result.evidence as Record<string, unknown>;
    expect(evidence).toMatchObject({
      resultId: 'res-1',
      metricId: 'revenue',
      method: 'bayesian',
      prior: 'flat',
      units: { control: 5000, variant: 5000, total: 10000 },
      srmPValue: 1,
    });
    expect(evidence.lift).toBeCloseTo(revenuePerUser.gbstats.lift, 9);
    const interval = evidence.interval as { lower: number; upper: number };
    expect(interval.lower).toBeCloseTo(revenuePerUser.gbstats.bayesian.ci[0], 9);
    expect(interval.upper).toBeCloseTo(revenuePerUser.gbstats.bayesian.ci[1], 9);
    expect(evidence.chanceToWin).toBe(result.score);
    // An interval clear of zero: confidence enough for the default settlement policy (0.5).
    expect(result.confidence).toBeGreaterThan(0.5);
    expect(result.confidence).toBeLessThan(0.7);
    expect(result.rationale).toMatch(
      /Chance to win 99\.5 % \(lift \+10\.2 %, 95 % credible interval \+2\.4 % to \+18\.1 %\)/,
    );
  });

  it('scores 1 - the one-sided p-value with the frequentist method', async () => {
    const result = scored(await score([abEvidence(abPayload())], { config: { defaults: { method: 'frequentist' } } }));
    expect(result.score).toBeCloseTo(1 - revenuePerUser.gbstats.frequentist.pValueTreatmentGreater, 9);
    expect(result.evidence).toMatchObject({ method: 'frequentist', test: 'Welch t' });
    expect((result.evidence as { pValue: number }).pValue).toBeCloseTo(
      revenuePerUser.gbstats.frequentist.pValueTreatmentGreater,
      9,
    );
  });

  it('turns the score around when lower is better: the same lift is then a loss', async () => {
    const result = scored(await score([abEvidence(abPayload({ higherIsBetter: false }))]));
    expect(result.score).toBeCloseTo(1 - revenuePerUser.gbstats.bayesian.chanceToWin, 9);
    // Confident that it lost: a low score the policy may act on.
    expect(result.confidence).toBeGreaterThan(0.5);
  });

  it('gives low confidence when the 95 % interval includes zero', async () => {
    const result = scored(
      await score([abEvidence(abPayload({ control: mergedPrShare.control, treatment: mergedPrShare.treatment }))]),
    );
    expect(result.score).toBeCloseTo(mergedPrShare.gbstats.chanceToWin, 9);
    expect(result.confidence).toBeLessThanOrEqual(0.2);
    expect(result.rationale).toMatch(/includes zero, so confidence is low/);
  });

  it('takes the configured normal prior, and records it', async () => {
    const prior = { mean: 0, standardDeviation: 0.05 };
    const flat = scored(await score([abEvidence(abPayload())]));
    const shrunk = scored(await score([abEvidence(abPayload())], { config: { defaults: { prior } } }));
    expect(shrunk.evidence).toMatchObject({ prior });
    // A sceptical prior pulls the lift and the chance to win towards zero.
    expect((shrunk.evidence as { lift: number }).lift).toBeLessThan((flat.evidence as { lift: number }).lift);
    expect(shrunk.score).toBeLessThan(flat.score);
  });

  it('reports an inconclusive comparison (a zero baseline) with no confidence and the reason', async () => {
    const result = scored(
      await score([
        abEvidence(
          abPayload({
            control: { kind: 'binomial', count: 4000, sum: 0 },
            treatment: { kind: 'binomial', count: 4000, sum: 12 },
          }),
        ),
      ]),
    );
    expect(result).toMatchObject({ score: 0.5, confidence: 0, evidence: { inconclusive: 'baseline_zero' } });
    expect(result.rationale).toMatch(/Inconclusive: the control mean is 0/);
  });

  it('waits while a variation has fewer units than the experiment config asks for', async () => {
    const small = abPayload({
      control: { kind: 'binomial', count: 40, sum: 4 },
      treatment: { kind: 'binomial', count: 45, sum: 9 },
    });
    expect(await score([abEvidence(small)])).toEqual({
      status: 'pending',
      reason: expect.stringMatching(/too few units yet: control 40, variant 45; .* needs 100 in each/),
    });
    const allowed = await score([abEvidence(small)], { config: { defaults: { minUnitsPerVariation: 30 } } });
    expect(allowed.status).toBe('scored');
  });
});

describe('sample-ratio mismatch', () => {
  // gbstats 0.8.0 check_srm: 5,200 / 4,800 against 50 / 50 gives p = 6.3e-5.
  const mismatched = abPayload({
    control: { kind: 'binomial', count: 5200, sum: 520 },
    treatment: { kind: 'binomial', count: 4800, sum: 560 },
  });

  it('refuses the result as evidence and waits for a corrected one while the window is open', async () => {
    expect(sampleRatioMismatch({ counts: [5200, 4800], weights: [1, 1] }).pValue).toBeCloseTo(6.334248366623988e-5, 12);
    const result = await score([abEvidence(mismatched)]);
    expect(result).toEqual({
      status: 'pending',
      reason: expect.stringMatching(
        /refused as evidence: sample-ratio mismatch: observed 5200 \/ 4800 .* Waiting for a corrected result/,
      ),
    });
    const closed = await score([abEvidence(mismatched)], { now: new Date('2025-02-01T00:00:00Z') });
    expect(closed).toEqual({ status: 'not_applicable', reason: expect.stringMatching(/sample-ratio mismatch/) });
  });

  it('checks the split against the weights the experiment was set up with', async () => {
    const ninetyTen = abPayload({
      control: { kind: 'binomial', count: 9010, sum: 901 },
      treatment: { kind: 'binomial', count: 990, sum: 119 },
      weights: [9, 1],
    });
    const result = scored(await score([abEvidence(ninetyTen)]));
    expect((result.evidence as { srmPValue: number }).srmPValue).toBeCloseTo(0.7388826803635271, 9);
    const half = ninetyTen as { variations: { weight?: number }[] };
    const weightless = { ...half, variations: [half.variations[0], { ...half.variations[1], weight: undefined }] };
    expect(await score([abEvidence(JSON.parse(JSON.stringify(weightless)))])).toEqual({
      status: 'pending',
      reason: expect.stringMatching(/gives weights to some variations only/),
    });
  });

  it('a corrected result observed later replaces the mismatched one', async () => {
    const corrected = abEvidence(abPayload({ resultId: 'res-2' }), '2025-01-06T00:00:00.000Z');
    const result = scored(await score([abEvidence(mismatched), corrected], { now: new Date('2025-01-07T00:00:00Z') }));
    expect(result.evidence).toMatchObject({ resultId: 'res-2' });
  });
});

describe('bounds', () => {
  it('keeps reasons, rationale and evidence within what the host accepts, however much evidence is ignored', async () => {
    const noise = Array.from({ length: 8 }, (_, index) =>
      abEvidence(abPayload({ resultId: `noise-${index}`, experimentKey: `e${'x'.repeat(60)}${index}` })),
    );
    const pending = await score(noise);
    expect(pending.status).toBe('pending');
    expect((pending as { reason: string }).reason.length).toBeLessThanOrEqual(reasonCharsMax);
    const result = scored(await score([...noise.slice(0, 7), abEvidence(abPayload())]));
    expect(result.rationale.length).toBeLessThanOrEqual(rationaleCharsMax);
    expect((result.evidence as { ignored: unknown[] }).ignored).toHaveLength(7);
  });
});
