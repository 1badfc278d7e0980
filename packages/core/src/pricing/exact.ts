import { ValidationError } from '../errors';
import { invariant } from '../invariant';

/**
 * Every pricing term is a rational number of minor units whose denominator is a power of ten
 * (per million tokens, per thousandth of a billion parameters, per 10^9 micrograms). Summing them
 * over the common denominator `pricingScale` keeps the arithmetic exact, so a request is rounded
 * up once, at the end, and never per term.
 */
export const pricingScaleDigits = 9;
export const pricingScale = 10n ** BigInt(pricingScaleDigits);

/** ceil(numerator / denominator) for numerator >= 0 and denominator > 0. */
export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  invariant(numerator >= 0n, `ceilDiv needs a non-negative numerator, got ${numerator}.`);
  invariant(denominator > 0n, `ceilDiv needs a positive denominator, got ${denominator}.`);
  return (numerator + denominator - 1n) / denominator;
}

/** Formats `scaled / pricingScale` as an exact decimal with trailing zeros dropped ("0.000150", "12"). */
export function formatScaled(scaled: bigint): string {
  invariant(scaled >= 0n, `formatScaled needs a non-negative value, got ${scaled}.`);
  const whole = scaled / pricingScale;
  const fraction = (scaled % pricingScale).toString().padStart(pricingScaleDigits, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

/** Model weights are kept exactly as thousandths of a billion parameters (1 = one million parameters). */
export const modelWeightDecimalsMax = 3;
const milliBillionsPerBillion = 10n ** BigInt(modelWeightDecimalsMax);
const modelWeightPattern = /^(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,3}))?$/;

/** Parses "8.03" (billions of parameters) into 8030 milli-billions, exactly, never through a float. */
export function parseModelWeightBillions(text: string): bigint {
  const match = typeof text === 'string' ? modelWeightPattern.exec(text) : null;
  if (match === null) {
    throw new ValidationError(
      `Model weight must be a decimal number of billions of parameters with at most ${modelWeightDecimalsMax} decimals, such as "8.03" or "0.5", got ${JSON.stringify(text)}.`,
    );
  }
  const [, whole = '0', fraction = ''] = match;
  return BigInt(whole) * milliBillionsPerBillion + BigInt(fraction.padEnd(modelWeightDecimalsMax, '0'));
}

/** Formats milli-billions back as a decimal of billions ("8.03"). */
export function formatModelWeightBillions(milliBillions: bigint): string {
  invariant(milliBillions >= 0n, `Model weight must not be negative, got ${milliBillions}.`);
  const whole = milliBillions / milliBillionsPerBillion;
  const fraction = (milliBillions % milliBillionsPerBillion)
    .toString()
    .padStart(modelWeightDecimalsMax, '0')
    .replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}
