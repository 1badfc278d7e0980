import { type Amount, assertAmount, assertNonNegativeAmount } from '../amount';
import { NotFoundError, ValidationError } from '../errors';
import { ceilDiv, formatScaled, pricingScale } from './exact';
import {
  co2eMicrogramsPerRequestMax,
  type CarbonPrice,
  type PriceList,
  type PriorityTier,
  priorityTiers,
  tokensPerRequestMax,
} from './price-list';

/** What one request used, as metered (or bounded, for an admission estimate). */
export interface CostRequest {
  readonly modelId: string;
  readonly tier: PriorityTier;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Emissions in micrograms CO2e; charged only when the price list has a carbon price. */
  readonly co2eMicrograms?: bigint;
}

/** One term of the formula, exact (before the single rounding), in minor units of `currency`. */
export interface CostTerm {
  readonly currency: string;
  readonly exactMinorUnits: string;
}

export interface CostBreakdown {
  readonly input: CostTerm;
  readonly output: CostTerm;
  readonly modelWeight: CostTerm;
  readonly priorityFee: CostTerm;
  readonly carbon?: CostTerm;
}

export interface CostQuote {
  readonly priceListVersion: string;
  readonly modelId: string;
  readonly tier: PriorityTier;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly co2eMicrograms?: bigint;
  /** The charge per currency, each rounded up once from the exact sum of its terms. */
  readonly totals: Readonly<Record<string, Amount>>;
  readonly breakdown: CostBreakdown;
}

/**
 * The carbon surcharge of `co2eMicrograms` (operational + embodied) at the internal carbon price,
 * exact: micrograms x (minor units per kg) / 10^9 micrograms per kg.
 */
export function carbonSurchargeTerm(carbonPrice: CarbonPrice, co2eMicrograms: bigint): CostTerm {
  return { currency: carbonPrice.currency, exactMinorUnits: formatScaled(co2eMicrograms * carbonPrice.perKgCo2e) };
}

function assertTokenCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > tokensPerRequestMax) {
    throw new ValidationError(`${what} must be an integer from 0 to ${tokensPerRequestMax}, got ${value}.`, {
      [what]: value,
    });
  }
}

/**
 * Prices one request: input*C_input + output*C_output + weight*C_model + priority fee (+ carbon
 * surcharge at the internal carbon price), summed exactly per currency and rounded up once.
 */
export function quoteCost(priceList: PriceList, request: CostRequest): CostQuote {
  const model = priceList.models[request.modelId];
  if (model === undefined || !Object.hasOwn(priceList.models, request.modelId)) {
    throw new NotFoundError(
      `Model "${request.modelId}" has no price in price list ${priceList.version}. Priced models: ${Object.keys(priceList.models).slice(0, 20).join(', ')}.`,
      { modelId: request.modelId, priceListVersion: priceList.version },
    );
  }
  if (!priorityTiers.includes(request.tier)) {
    throw new ValidationError(
      `Priority tier must be one of ${priorityTiers.join(', ')}, got ${JSON.stringify(request.tier)}.`,
    );
  }
  assertTokenCount(request.inputTokens, 'inputTokens');
  assertTokenCount(request.outputTokens, 'outputTokens');

  // Every term scaled to 1e-9 minor units: exact, since each denominator divides 10^9.
  const fee = model.tiers[request.tier];
  const scaled: Array<[keyof CostBreakdown, string, bigint]> = [
    ['input', model.currency, (BigInt(request.inputTokens) * model.cInputPerMTok * pricingScale) / 1_000_000n],
    ['output', model.currency, (BigInt(request.outputTokens) * model.cOutputPerMTok * pricingScale) / 1_000_000n],
    ['modelWeight', model.currency, (model.weightMilliBillions * model.cModelPerBParam * pricingScale) / 1_000n],
    ['priorityFee', fee.currency, fee.fee * pricingScale],
  ];
  if (priceList.carbonPrice !== undefined && request.co2eMicrograms !== undefined) {
    assertNonNegativeAmount(request.co2eMicrograms, 'co2eMicrograms');
    if (request.co2eMicrograms > co2eMicrogramsPerRequestMax) {
      throw new ValidationError(
        `co2eMicrograms ${request.co2eMicrograms} exceeds the per-request limit ${co2eMicrogramsPerRequestMax} (1 t).`,
      );
    }
    // micrograms * (minor units per kg) / 10^9 micrograms per kg, already at the 10^9 scale.
    scaled.push(['carbon', priceList.carbonPrice.currency, request.co2eMicrograms * priceList.carbonPrice.perKgCo2e]);
  }

  const sums = new Map<string, bigint>([[model.currency, 0n]]);
  const breakdown: Partial<Record<keyof CostBreakdown, CostTerm>> = {};
  for (const [term, currency, value] of scaled) {
    sums.set(currency, (sums.get(currency) ?? 0n) + value);
    breakdown[term] = { currency, exactMinorUnits: formatScaled(value) };
  }
  const totals: Record<string, Amount> = {};
  for (const [currency, sum] of sums) {
    const total = ceilDiv(sum, pricingScale);
    assertAmount(total, `cost in ${currency}`);
    totals[currency] = total;
  }
  return {
    priceListVersion: priceList.version,
    modelId: request.modelId,
    tier: request.tier,
    inputTokens: request.inputTokens,
    outputTokens: request.outputTokens,
    ...(request.co2eMicrograms === undefined ? {} : { co2eMicrograms: request.co2eMicrograms }),
    totals,
    breakdown: breakdown as CostBreakdown,
  };
}
