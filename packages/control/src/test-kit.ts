import type { PriceListInput } from '@tokenwise/core';

export { bearer, orgWithUser, testPepper } from './keys/test-fixtures';

/** The model the test price list prices (the simulator's default). */
export const testPricedModel = 'sim-llama-8b';

/** A price list with round numbers: 1 minor unit per input token, 2 per output token, urgent paid in priority tokens. */
export function testPriceList(model = testPricedModel): PriceListInput {
  return {
    version: 'test-1',
    models: {
      [model]: {
        currency: 'innovation',
        cInputPerMTok: '1000000',
        cOutputPerMTok: '2000000',
        weightBillions: '8',
        cModelPerBParam: '10',
        tiers: {
          low: { fee: '0', currency: 'innovation' },
          normal: { fee: '0', currency: 'innovation' },
          high: { fee: '100', currency: 'innovation' },
          urgent: { fee: '1000', currency: 'priority' },
        },
      },
    },
  };
}
