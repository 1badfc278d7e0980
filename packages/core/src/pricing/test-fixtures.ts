import fc from 'fast-check';
import { priorityTiers, type PriceListInput } from './price-list';

/** A small realistic price list: innovation for compute, urgent paid in priority tokens. */
export function samplePriceListInput(): PriceListInput {
  return {
    version: '2026-03-01',
    models: {
      'llama-3-8b': {
        currency: 'innovation',
        cInputPerMTok: '150000',
        cOutputPerMTok: '600000',
        weightBillions: '8.03',
        cModelPerBParam: '100',
        tiers: {
          low: { fee: '0', currency: 'innovation' },
          normal: { fee: '0', currency: 'innovation' },
          high: { fee: '5000', currency: 'innovation' },
          urgent: { fee: '20000', currency: 'priority' },
        },
      },
    },
    carbonPrice: { currency: 'innovation', perKgCo2e: '50000000' },
  };
}

const rate = fc.bigInt({ min: 0n, max: 10n ** 9n });

/** Arbitrary model prices with ordered fees, in one or two currencies. */
export const arbitraryModelPrice = fc
  .record({
    cInputPerMTok: rate,
    cOutputPerMTok: rate,
    weightMilli: fc.bigInt({ min: 1n, max: 2_000_000n }),
    cModelPerBParam: rate,
    fees: fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 4, maxLength: 4 }),
    urgentCurrency: fc.constantFrom('innovation', 'priority'),
  })
  .map(({ weightMilli, fees, urgentCurrency, ...rates }) => {
    const sorted = [...fees].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const tiers = Object.fromEntries(
      priorityTiers.map((tier, index) => [
        tier,
        { fee: sorted[index] as bigint, currency: tier === 'urgent' ? urgentCurrency : 'innovation' },
      ]),
    );
    return {
      currency: 'innovation',
      ...rates,
      weightBillions: `${weightMilli / 1000n}.${(weightMilli % 1000n).toString().padStart(3, '0')}`,
      tiers: tiers as PriceListInput['models'][string]['tiers'],
    };
  });
