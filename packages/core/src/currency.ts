import { UnknownCurrencyError } from './errors';

/** A currency of the internal token economy. Amounts are integers of its minor unit. */
export interface Currency {
  readonly code: string;
  readonly name: string;
  /** Digits after the decimal point when shown to people: 1 token = 10^decimals minor units. */
  readonly decimals: number;
  readonly description: string;
}

export const innovation: Currency = {
  code: 'innovation',
  name: 'Innovation tokens',
  decimals: 6,
  description: 'Base allocation: unrestricted use of inference.',
};

export const priority: Currency = {
  code: 'priority',
  name: 'Priority tokens',
  decimals: 6,
  description: 'Earned by proven value: pays priority fees and unlocks larger models.',
};

const builtIn: ReadonlyMap<string, Currency> = new Map([
  [innovation.code, innovation],
  [priority.code, priority],
]);

/** The currencies every deployment has; more can be registered by configuration later. */
export const currencies: readonly Currency[] = [...builtIn.values()];

export const currencyCodePattern = /^[a-z][a-z0-9_]{1,31}$/;

/**
 * The carbon currency of cap budgets: micrograms CO2e, shown as grams (6 decimals). It is a ledger
 * currency, not a token anyone holds: it never appears in a wallet, a grant or a price list.
 */
export const carbonCurrency: Currency = {
  code: 'carbon',
  name: 'Carbon budget',
  decimals: 6,
  description: 'Micrograms CO2e a user, team or org may still emit this period (shown in grams).',
};

/**
 * A currency the ledger keeps accounts in: a token currency, or the carbon currency of cap budgets
 * (micrograms CO2e), which only budget accounts hold.
 */
export function ledgerCurrencyByCode(code: string): Currency {
  if (code === carbonCurrency.code) return carbonCurrency;
  return currencyByCode(code);
}

/** Looks a currency up by code; throws a message listing the known codes when there is none. */
export function currencyByCode(code: string): Currency {
  const currency = builtIn.get(code);
  if (currency === undefined) {
    throw new UnknownCurrencyError(`Unknown currency "${code}". Known currencies: ${[...builtIn.keys()].join(', ')}.`, {
      currency: code,
    });
  }
  return currency;
}
