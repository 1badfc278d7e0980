import { describe, expect, it } from 'vitest';
import { amountMax } from '../amount';
import { ValidationError } from '../errors';
import { formatModelWeightBillions, parseModelWeightBillions } from './exact';
import { parsePriceList, type PriceListInput } from './price-list';
import { samplePriceListInput } from './test-fixtures';

function withModel(patch: Record<string, unknown>): PriceListInput {
  const input = samplePriceListInput();
  const model = input.models['llama-3-8b'] as Record<string, unknown>;
  return { ...input, models: { 'llama-3-8b': { ...model, ...patch } as PriceListInput['models'][string] } };
}

function messageOf(input: unknown): string {
  try {
    parsePriceList(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the price list to be refused');
}

describe('price lists', () => {
  it('parses rates exactly and keeps fractional model weights exact', () => {
    const list = parsePriceList(samplePriceListInput());
    const model = list.models['llama-3-8b'];
    expect(model?.cInputPerMTok).toBe(150_000n);
    expect(model?.weightMilliBillions).toBe(8030n);
    expect(model?.tiers.urgent).toEqual({ fee: 20_000n, currency: 'priority' });
    expect(parseModelWeightBillions('0.5')).toBe(500n);
    expect(formatModelWeightBillions(8030n)).toBe('8.03');
    expect(parsePriceList(withModel({ weightBillions: 70 })).models['llama-3-8b']?.weightMilliBillions).toBe(70_000n);
  });

  it('refuses bad rates with a message naming the field', () => {
    expect(messageOf(withModel({ cInputPerMTok: '-1' }))).toMatch(
      /models\.llama-3-8b\.cInputPerMTok: must be a non-negative integer count of minor units/,
    );
    expect(messageOf(withModel({ cOutputPerMTok: 1.5 }))).toMatch(/models\.llama-3-8b\.cOutputPerMTok: must be/);
    expect(messageOf(withModel({ cModelPerBParam: '1e3' }))).toMatch(/models\.llama-3-8b\.cModelPerBParam: must be/);
    expect(messageOf(withModel({ cInputPerMTok: (amountMax + 1n).toString() }))).toMatch(/cInputPerMTok: must be/);
  });

  it('refuses weights that are not exact decimals of billions', () => {
    for (const bad of ['8.0301', '-1', '0', '1e3', 8.5, '']) {
      expect(messageOf(withModel({ weightBillions: bad })), String(bad)).toMatch(
        /models\.llama-3-8b\.weightBillions: must be a positive decimal/,
      );
    }
  });

  it('refuses bad tiers, currencies and unknown fields', () => {
    const input = samplePriceListInput();
    const model = input.models['llama-3-8b'] as PriceListInput['models'][string];
    const badCurrency = withModel({ tiers: { ...model.tiers, urgent: { fee: '1', currency: 'Priority' } } });
    expect(messageOf(badCurrency)).toMatch(
      /models\.llama-3-8b\.tiers\.urgent\.currency: must be a lowercase currency code/,
    );
    const { urgent: _urgent, ...threeTiers } = model.tiers;
    expect(messageOf(withModel({ tiers: threeTiers }))).toMatch(/models\.llama-3-8b\.tiers\.urgent/);
    expect(
      messageOf(
        withModel({
          tiers: {
            ...model.tiers,
            high: { fee: '0', currency: 'innovation' },
            normal: { fee: '10', currency: 'innovation' },
          },
        }),
      ),
    ).toMatch(/models\.llama-3-8b\.tiers\.high\.fee: must be at least tiers\.normal\.fee/);
    expect(messageOf(withModel({ cInputPerMtok: '1' }))).toMatch(/models\.llama-3-8b/);
    expect(messageOf({ ...input, version: '' })).toMatch(/version: must be a version label/);
    expect(messageOf({ ...input, models: {} })).toMatch(/models: must list at least one model/);
    expect(messageOf({ ...input, carbonPrice: { currency: 'innovation', perKgCo2e: -5 } })).toMatch(
      /carbonPrice\.perKgCo2e: must be/,
    );
  });

  it('refuses a price list whose worst-case request would overflow 64 bits', () => {
    const message = messageOf(withModel({ cOutputPerMTok: (10n ** 16n).toString() }));
    expect(message).toMatch(/models\.llama-3-8b: the worst-case cost of one request/);
    expect(message).toMatch(/lower this model's rates or fees/);
  });
});
