import type { Amount } from '../amount';
import { currencies } from '../currency';

/** Basis points: 10,000 = 100 %. */
const basisPointsWhole = 10_000n;

/**
 * A request's cost expressed in the reward's currency, for bounding the reward. There is no
 * exchange rate between the token currencies, so they count at par by whole token: minor units are
 * rescaled by the currencies' decimals (innovation and priority both have 6, so 1:1) and rounded
 * down. Priority tokens are earned and scarcer than innovation tokens, so par never lets a reward
 * be worth more than the share of the cost it is bounded by. Undefined when either currency is
 * unknown (then no reward can be bounded, and none is paid).
 */
export function costInRewardCurrency(cost: Amount, costCurrency: string, rewardCurrency: string): Amount | undefined {
  const from = currencies.find((currency) => currency.code === costCurrency);
  const to = currencies.find((currency) => currency.code === rewardCurrency);
  if (from === undefined || to === undefined) return undefined;
  const shift = to.decimals - from.decimals;
  return shift >= 0 ? cost * 10n ** BigInt(shift) : cost / 10n ** BigInt(-shift);
}

/**
 * The largest reward one request may earn: `shareBps` of its cost (at par in the reward currency,
 * rounded down), and never more than the cost left after its refund, so a user never gets back
 * more than the request cost them, whatever the policy says.
 */
export function rewardShareBound(input: {
  cost: Amount;
  costCurrency: string;
  refund: Amount;
  rewardCurrency: string;
  shareBps: number;
}): { shareBound: Amount; costLeft: Amount } | undefined {
  const cost = costInRewardCurrency(input.cost > 0n ? input.cost : 0n, input.costCurrency, input.rewardCurrency);
  const left = costInRewardCurrency(
    input.cost > input.refund ? input.cost - input.refund : 0n,
    input.costCurrency,
    input.rewardCurrency,
  );
  if (cost === undefined || left === undefined) return undefined;
  return { shareBound: (cost * BigInt(input.shareBps)) / basisPointsWhole, costLeft: left };
}
