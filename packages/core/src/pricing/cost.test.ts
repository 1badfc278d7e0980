import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../errors';
import { quoteCost, type CostRequest } from './cost';
import { pricingScale } from './exact';
import { parsePriceList, type PriceList, type PriceListInput, priorityTiers } from './price-list';
import { arbitraryModelPrice, samplePriceListInput } from './test-fixtures';

function listOf(model: PriceListInput['models'][string], carbonPerKg?: bigint): PriceList {
  return parsePriceList({
    version: 'v1',
    models: { m: model },
    ...(carbonPerKg === undefined ? {} : { carbonPrice: { currency: 'innovation', perKgCo2e: carbonPerKg } }),
  });
}

const tiers = (fee: string) =>
  Object.fromEntries(
    priorityTiers.map((tier) => [tier, { fee, currency: 'innovation' }]),
  ) as PriceListInput['models'][string]['tiers'];

describe('the pricing engine', () => {
  it('charges 1 minor unit for 1 token at 1 minor unit per million tokens, not 0', () => {
    const list = listOf({
      currency: 'innovation',
      cInputPerMTok: 1n,
      cOutputPerMTok: 0n,
      weightBillions: '1',
      cModelPerBParam: 0n,
      tiers: tiers('0'),
    });
    const quote = quoteCost(list, { modelId: 'm', tier: 'normal', inputTokens: 1, outputTokens: 0 });
    expect(quote.totals).toEqual({ innovation: 1n });
    expect(quote.breakdown.input.exactMinorUnits).toBe('0.000001');
  });

  it('rounds the exact sum once, not each term', () => {
    // 0.4 (input) + 0.4 (output) + 0.2 (weight 0.2 B x 1) = exactly 1; per-term ceilings would give 3.
    const list = listOf({
      currency: 'innovation',
      cInputPerMTok: 400_000n,
      cOutputPerMTok: 400_000n,
      weightBillions: '0.2',
      cModelPerBParam: 1n,
      tiers: tiers('0'),
    });
    const quote = quoteCost(list, { modelId: 'm', tier: 'low', inputTokens: 1, outputTokens: 1 });
    expect(quote.totals.innovation).toBe(1n);
    expect(quote.breakdown).toMatchObject({
      input: { exactMinorUnits: '0.4' },
      output: { exactMinorUnits: '0.4' },
      modelWeight: { exactMinorUnits: '0.2' },
      priorityFee: { exactMinorUnits: '0' },
    });
  });

  it('prices the sample request term by term, per currency, with the price-list version', () => {
    const list = parsePriceList(samplePriceListInput());
    const quote = quoteCost(list, {
      modelId: 'llama-3-8b',
      tier: 'urgent',
      inputTokens: 1_000,
      outputTokens: 500,
      co2eMicrograms: 17_831n,
    });
    // 1000 * 150000/1e6 = 150; 500 * 600000/1e6 = 300; 8.03 * 100 = 803; carbon 17831 ug * 5e7 / 1e9 = 891.55
    expect(quote.breakdown.input.exactMinorUnits).toBe('150');
    expect(quote.breakdown.output.exactMinorUnits).toBe('300');
    expect(quote.breakdown.modelWeight.exactMinorUnits).toBe('803');
    expect(quote.breakdown.carbon).toEqual({ currency: 'innovation', exactMinorUnits: '891.55' });
    expect(quote.breakdown.priorityFee).toEqual({ currency: 'priority', exactMinorUnits: '20000' });
    expect(quote.totals).toEqual({ innovation: 2_145n, priority: 20_000n });
    expect(quote.priceListVersion).toBe('2026-03-01');
  });

  it('names the priced models when the model is unknown, and refuses bad counts', () => {
    const list = parsePriceList(samplePriceListInput());
    expect(() => quoteCost(list, { modelId: 'gpt-x', tier: 'low', inputTokens: 1, outputTokens: 1 })).toThrow(
      NotFoundError,
    );
    expect(() => quoteCost(list, { modelId: 'toString', tier: 'low', inputTokens: 1, outputTokens: 1 })).toThrow(
      /Priced models: llama-3-8b/,
    );
    expect(() => quoteCost(list, { modelId: 'llama-3-8b', tier: 'low', inputTokens: -1, outputTokens: 1 })).toThrow(
      ValidationError,
    );
    expect(() => quoteCost(list, { modelId: 'llama-3-8b', tier: 'low', inputTokens: 1, outputTokens: 0.5 })).toThrow(
      /outputTokens must be an integer/,
    );
  });

  const usage = fc.record({
    inputTokens: fc.integer({ min: 0, max: 2_000_000 }),
    outputTokens: fc.integer({ min: 0, max: 2_000_000 }),
    co2eMicrograms: fc.bigInt({ min: 0n, max: 10n ** 10n }),
    tierIndex: fc.integer({ min: 0, max: 3 }),
  });

  it('is exact: each total is the least integer at or above the exact sum of its terms, never negative', () => {
    fc.assert(
      fc.property(arbitraryModelPrice, usage, fc.bigInt({ min: 0n, max: 10n ** 9n }), (model, use, carbon) => {
        const list = listOf(model, carbon);
        const quote = quoteCost(list, { modelId: 'm', tier: priorityTiers[use.tierIndex] ?? 'low', ...use });
        const priced = list.models.m;
        if (priced === undefined) throw new Error('model missing');
        const fee = priced.tiers[priorityTiers[use.tierIndex] ?? 'low'];
        // The exact innovation amount as a fraction over 10^18 (different scale from the engine's).
        let exact =
          BigInt(use.inputTokens) * priced.cInputPerMTok * 10n ** 12n +
          BigInt(use.outputTokens) * priced.cOutputPerMTok * 10n ** 12n;
        exact +=
          priced.weightMilliBillions * priced.cModelPerBParam * 10n ** 15n + use.co2eMicrograms * carbon * 10n ** 9n;
        if (fee.currency === 'innovation') exact += fee.fee * 10n ** 18n;
        const total = quote.totals.innovation ?? -1n;
        expect(total).toBeGreaterThanOrEqual(0n);
        expect(total * 10n ** 18n).toBeGreaterThanOrEqual(exact);
        expect((total - 1n) * 10n ** 18n).toBeLessThan(exact);
        for (const amount of Object.values(quote.totals)) expect(amount).toBeGreaterThanOrEqual(0n);
      }),
      { numRuns: 500 },
    );
    expect(pricingScale).toBe(10n ** 9n);
  });

  const bump = fc.bigInt({ min: 0n, max: 10n ** 6n });
  it('is monotonic in tokens, weight, every coefficient, carbon and tier', () => {
    fc.assert(
      fc.property(
        arbitraryModelPrice,
        usage,
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        bump,
        fc.integer({ min: 0, max: 8 }),
        (model, use, carbon, by, which) => {
          const tier = priorityTiers[use.tierIndex] ?? 'low';
          const base: CostRequest = { modelId: 'm', tier, ...use };
          const before = quoteCost(listOf(model, carbon), base).totals;
          let request = base;
          let bumpedModel = model;
          let bumpedCarbon = carbon;
          const weight = BigInt(model.weightBillions.replace('.', '')) + by;
          switch (which) {
            case 0:
              request = { ...base, inputTokens: base.inputTokens + Number(by) };
              break;
            case 1:
              request = { ...base, outputTokens: base.outputTokens + Number(by) };
              break;
            case 2:
              request = { ...base, co2eMicrograms: (base.co2eMicrograms ?? 0n) + by };
              break;
            case 3:
              request = { ...base, tier: priorityTiers[Math.min(3, use.tierIndex + 1)] ?? 'urgent' };
              break;
            case 4:
              bumpedModel = { ...model, cInputPerMTok: BigInt(model.cInputPerMTok) + by };
              break;
            case 5:
              bumpedModel = { ...model, cOutputPerMTok: BigInt(model.cOutputPerMTok) + by };
              break;
            case 6:
              bumpedModel = { ...model, cModelPerBParam: BigInt(model.cModelPerBParam) + by };
              break;
            case 7:
              bumpedModel = {
                ...model,
                weightBillions: `${weight / 1000n}.${(weight % 1000n).toString().padStart(3, '0')}`,
              };
              break;
            default:
              bumpedCarbon = carbon + by;
          }
          const after = quoteCost(listOf(bumpedModel, bumpedCarbon), request).totals;
          // A higher tier may move its fee to another currency; within one currency nothing decreases.
          const sameCurrencies = which !== 3 || model.tiers[tier].currency === model.tiers[request.tier].currency;
          if (sameCurrencies) {
            for (const [currency, amount] of Object.entries(before))
              expect(after[currency] ?? 0n).toBeGreaterThanOrEqual(amount);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
