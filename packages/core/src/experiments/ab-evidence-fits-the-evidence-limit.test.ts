import { describe, expect, it } from 'vitest';
import { abEvidencePayloadSchema, abVariationsMax, type AbEvidencePayload } from './ab-evidence';

/** The host's bound on one evidence payload (workflows' externalEvidencePayloadBytesMax). */
const hostPayloadBytesMax = 4 * 1024;

function widest(): AbEvidencePayload {
  const long = (n: number) => 'x'.repeat(n);
  // Sums with 17 significant digits, the longest a double prints as.
  const summary = {
    kind: 'ratio' as const,
    count: 9_007_199_254_740,
    sum: 1 / 3 + 1234567,
    sumSquares: 1 / 3 + 12345678901234,
    denominatorSum: 2 / 3 + 2345678,
    denominatorSumSquares: 2 / 3 + 23456789012345,
    mainDenominatorSumProduct: 1 / 7 + 12345678901234,
  };
  return {
    v: 1,
    resultId: long(64),
    experimentKey: long(64),
    metricId: long(64),
    higherIsBetter: true,
    variantKey: long(64),
    variations: Array.from({ length: abVariationsMax }, (_, index) => ({
      key: `${long(62)}-${index}`,
      summary,
      weight: 0.16666666666666666,
    })),
    eligibility: { assigned: true, duringExperiment: true, selfSubmitted: false },
  };
}

describe('A/B evidence payload', () => {
  it('fits the host evidence limit at its widest', () => {
    const payload = abEvidencePayloadSchema.parse(widest());
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(hostPayloadBytesMax);
  });

  it('refuses a payload over the variation limit, with duplicate keys, or with mixed metric kinds', () => {
    const tooMany = { ...widest(), variations: [...widest().variations, widest().variations[0]!] };
    expect(abEvidencePayloadSchema.safeParse(tooMany).success).toBe(false);
    const duplicate = { ...widest(), variations: [widest().variations[0]!, widest().variations[0]!] };
    expect(abEvidencePayloadSchema.safeParse(duplicate).error?.issues[0]?.message).toBe(
      'variation keys must be distinct',
    );
    const mixed = {
      ...widest(),
      variations: [widest().variations[0]!, { key: 'b', summary: { kind: 'binomial', count: 10, sum: 3 } }],
    };
    expect(abEvidencePayloadSchema.safeParse(mixed).error?.issues[0]?.message).toBe(
      'every variation must carry the same metric kind',
    );
  });
});
