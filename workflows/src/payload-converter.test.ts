import { amountMax, amountMin } from '@tokenwise/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { payloadConverter } from './payload-converter';

const valueWithAmounts = fc.oneof(
  fc.bigInt({ min: amountMin, max: amountMax }),
  fc.record({
    requestId: fc.uuid(),
    cost: fc.bigInt({ min: amountMin, max: amountMax }),
    tags: fc.array(fc.string(), { maxLength: 3 }),
  }),
  fc.array(fc.record({ amount: fc.constantFrom(amountMax, amountMin, 0n), n: fc.integer() }), { maxLength: 5 }),
);

describe('the Temporal payload converter', () => {
  it('round-trips values with bigints anywhere, the largest included', () => {
    fc.assert(
      fc.property(valueWithAmounts, (value) => {
        const payload = payloadConverter.toPayload(value);
        expect(payloadConverter.fromPayload(payload)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps undefined and binary payloads as the SDK does', () => {
    expect(payloadConverter.fromPayload(payloadConverter.toPayload(undefined))).toBeUndefined();
    const bytes = new Uint8Array([0, 1, 255]);
    expect(payloadConverter.fromPayload(payloadConverter.toPayload(bytes))).toEqual(bytes);
  });
});
