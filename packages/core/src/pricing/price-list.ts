import { z } from 'zod';
import { type Amount, amountMax } from '../amount';
import { currencyCodePattern } from '../currency';
import { ValidationError } from '../errors';
import { ceilDiv, modelWeightDecimalsMax, parseModelWeightBillions, pricingScale } from './exact';

export const priorityTiers = ['low', 'normal', 'high', 'urgent'] as const;
export type PriorityTier = (typeof priorityTiers)[number];

/** Prompt and completion tokens of one request are each at most this; the worst-case check uses it. */
export const tokensPerRequestMax = 1_000_000_000;
/** One request emits at most this much CO2e (one tonne) for pricing purposes, in micrograms. */
export const co2eMicrogramsPerRequestMax = 10n ** 12n;
/** Models in one price list. */
export const priceListModelsMax = 1_000;
/** 100,000 billion parameters, in milli-billions: anything larger is a typo. */
export const modelWeightMilliBillionsMax = 100_000_000n;

const modelIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;
const integerTextPattern = /^(0|[1-9][0-9]{0,18})$/;

/** A non-negative rate in minor units: a bigint, an integer string, or a safe integer number. */
const rateSchema = z.unknown().transform((value, ctx): Amount => {
  let parsed: bigint | undefined;
  if (typeof value === 'bigint') parsed = value;
  else if (typeof value === 'string' && integerTextPattern.test(value)) parsed = BigInt(value);
  else if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  if (parsed === undefined || parsed < 0n || parsed > amountMax) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a non-negative integer count of minor units up to ${amountMax}, such as "150" (string, bigint or safe integer), got ${describe(value)}`,
    });
    return z.NEVER;
  }
  return parsed;
});

const weightSchema = z.unknown().transform((value, ctx): bigint => {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  try {
    const milli = parseModelWeightBillions(text as string);
    if (milli > 0n && milli <= modelWeightMilliBillionsMax) return milli;
  } catch {
    // reported below with the field's own message
  }
  ctx.addIssue({
    code: 'custom',
    message: `must be a positive decimal number of billions of parameters with at most ${modelWeightDecimalsMax} decimals, such as "8.03" or "0.5", got ${describe(value)}`,
  });
  return z.NEVER;
});

const currencyField = z
  .string()
  .regex(currencyCodePattern, 'must be a lowercase currency code such as "innovation" or "priority"');

const tierFeeSchema = z.strictObject({ fee: rateSchema, currency: currencyField });

const modelPriceSchema = z
  .strictObject({
    currency: currencyField,
    cInputPerMTok: rateSchema,
    cOutputPerMTok: rateSchema,
    weightBillions: weightSchema,
    cModelPerBParam: rateSchema,
    tiers: z.strictObject({ low: tierFeeSchema, normal: tierFeeSchema, high: tierFeeSchema, urgent: tierFeeSchema }),
  })
  .transform(({ weightBillions, ...rest }) => ({ ...rest, weightMilliBillions: weightBillions }));

const carbonPriceSchema = z.strictObject({ currency: currencyField, perKgCo2e: rateSchema });

export const priceListSchema = z
  .strictObject({
    version: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be a version label such as "2026-03-01" or "v7"'),
    models: z
      .record(
        z.string().regex(modelIdPattern, 'model ids are letters, digits and ._:/@+- up to 128 characters'),
        modelPriceSchema,
      )
      .refine((models) => Object.keys(models).length >= 1, 'must list at least one model')
      .refine(
        (models) => Object.keys(models).length <= priceListModelsMax,
        `must list at most ${priceListModelsMax} models`,
      ),
    carbonPrice: carbonPriceSchema.optional(),
  })
  .superRefine((list, ctx) => {
    // Zod runs this refinement even after a field failed; then the totals are meaningless.
    if (ctx.issues.length > 0) return;
    for (const [modelId, model] of Object.entries(list.models)) {
      refineTierOrder(modelId, model, ctx);
      for (const [currency, worst] of worstCaseByCurrency(model, list.carbonPrice)) {
        if (worst > amountMax) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', modelId],
            message: `the worst-case cost of one request (${tokensPerRequestMax} input and output tokens${list.carbonPrice ? ', 1 t CO2e' : ''}) is ${worst} ${currency} minor units, beyond the 64-bit limit ${amountMax}; lower this model's rates or fees`,
          });
        }
      }
    }
  });

/** A higher tier never costs less than a lower one paid in the same currency. */
function refineTierOrder(modelId: string, model: z.output<typeof modelPriceSchema>, ctx: z.RefinementCtx): void {
  priorityTiers.forEach((tier, index) => {
    for (const lower of priorityTiers.slice(0, index)) {
      const [a, b] = [model.tiers[lower], model.tiers[tier]];
      if (a.currency === b.currency && b.fee < a.fee) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', modelId, 'tiers', tier, 'fee'],
          message: `must be at least tiers.${lower}.fee (${a.fee} ${a.currency}): a higher priority never costs less in the same currency`,
        });
      }
    }
  });
}

export type PriceList = z.output<typeof priceListSchema>;
export type ModelPrice = PriceList['models'][string];
export type CarbonPrice = NonNullable<PriceList['carbonPrice']>;
export type PriceListInput = z.input<typeof priceListSchema>;

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? typeof value;
}

/** The largest total, per currency, that one request can cost under this model's price. */
export function worstCaseByCurrency(model: ModelPrice, carbonPrice: CarbonPrice | undefined): Map<string, bigint> {
  const tokens = BigInt(tokensPerRequestMax);
  const scaled = new Map<string, bigint>();
  const add = (currency: string, value: bigint) => scaled.set(currency, (scaled.get(currency) ?? 0n) + value);
  add(model.currency, (tokens * (model.cInputPerMTok + model.cOutputPerMTok) * pricingScale) / 1_000_000n);
  add(model.currency, (model.weightMilliBillions * model.cModelPerBParam * pricingScale) / 1_000n);
  const feeByCurrency = new Map<string, bigint>();
  for (const tier of priorityTiers) {
    const { fee, currency } = model.tiers[tier];
    feeByCurrency.set(currency, fee > (feeByCurrency.get(currency) ?? 0n) ? fee : (feeByCurrency.get(currency) ?? 0n));
  }
  for (const [currency, fee] of feeByCurrency) add(currency, fee * pricingScale);
  if (carbonPrice) add(carbonPrice.currency, co2eMicrogramsPerRequestMax * carbonPrice.perKgCo2e);
  return new Map([...scaled].map(([currency, value]) => [currency, ceilDiv(value, pricingScale)]));
}

/** Validates a price list, throwing one ValidationError whose message names every bad field. */
export function parsePriceList(input: unknown): PriceList {
  const result = priceListSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (issue) => `${issue.path.length === 0 ? 'priceList' : issue.path.map(String).join('.')}: ${issue.message}`,
  );
  throw new ValidationError(`Invalid price list: ${issues.join('; ')}.`, { issues });
}
