import { currencyByCode, formatAmount } from '@tokenwise/core';

/** Minor units with their currency; a currency this build does not know shows as raw minor units. */
export function money(amount: bigint, code: string): string {
  try {
    return `${formatAmount(amount, currencyByCode(code))} ${code}`;
  } catch {
    return `${amount} minor units of ${code}`;
  }
}
