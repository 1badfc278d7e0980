import { formatAmount, type Amount } from './amount';
import { currencyByCode } from './currency';
import { LimitExceededError } from './errors';

/**
 * How much an org may issue: one grant at most `grantAmountMax`, all issuance of one calendar month
 * (in the org's time zone) at most `monthlyIssuanceMax`, per currency. Grants, allowances and judge
 * budgets all count against the month.
 */
export interface GrantBounds {
  grantAmountMax: Amount;
  monthlyIssuanceMax: Amount;
}

/** Bounds of an org the operator has not configured: one million tokens a grant, a hundred million a month (6-decimal currencies). */
export const grantBoundsDefault: Readonly<GrantBounds> = { grantAmountMax: 10n ** 12n, monthlyIssuanceMax: 10n ** 14n };

/** What a grant would be measured against: the bounds, what the org already issued this month, and where. */
export interface GrantBoundsCheck {
  bounds: GrantBounds;
  currency: string;
  amount: Amount;
  issuedThisMonth: Amount;
  period: string;
  timeZone: string;
  orgLabel: string;
}

/** Throws a LimitExceededError naming the bound, the amount asked and what is left this month; pure. */
export function assertWithinGrantBounds(check: GrantBoundsCheck): void {
  const currency = currencyByCode(check.currency);
  const show = (amount: Amount) => `${formatAmount(amount, currency)} ${currency.code}`;
  const left =
    check.bounds.monthlyIssuanceMax > check.issuedThisMonth
      ? check.bounds.monthlyIssuanceMax - check.issuedThisMonth
      : 0n;
  const details = {
    currency: currency.code,
    amount: check.amount.toString(),
    left: left.toString(),
    period: check.period,
    timeZone: check.timeZone,
  };
  if (check.amount > check.bounds.grantAmountMax) {
    throw new LimitExceededError(
      `A grant of ${show(check.amount)} exceeds ${check.orgLabel}'s bound grantAmountMax of ${show(check.bounds.grantAmountMax)} per grant; ${show(left)} is left of this month's issuance (${check.period}, ${check.timeZone}). Split it, or ask the platform operator to raise the bound (tokenwise org set-grant-bounds).`,
      { ...details, bound: 'grantAmountMax' },
    );
  }
  if (check.amount > left) {
    throw new LimitExceededError(
      `A grant of ${show(check.amount)} exceeds ${check.orgLabel}'s bound monthlyIssuanceMax of ${show(check.bounds.monthlyIssuanceMax)} per month: ${show(left)} is left for ${check.period} (${check.timeZone}). Wait for next month, or ask the platform operator to raise the bound (tokenwise org set-grant-bounds).`,
      { ...details, bound: 'monthlyIssuanceMax' },
    );
  }
}
