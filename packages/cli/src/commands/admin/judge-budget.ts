import { currencies, currencyByCode, formatAmount, parseAmount, ValidationError } from '@tokenwise/core';
import { listJudgeBudgets } from '@tokenwise/db';
import { applyJudgeBudget, findAccount, judgeWalletKey } from '@tokenwise/ledger';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { currencyOption, optionalText, text } from './option-values';

/** `judge-budget ...`: what an org's judge wallet is funded with each month. */
export const judgeBudgetCommands: AdminCommandSpecs = {
  'judge-budget set': {
    summary:
      "set the org's monthly judge budget: its judge wallet is funded with it each month from the org's issuance, this month's at once; 0 removes it",
    options: [
      orgOption,
      { name: 'amount', value: 'amount', required: true, description: 'a month, e.g. 100' },
      currencyOption,
    ],
    async run({ database, ledger }, options, actor) {
      const org = await orgOf(database.db, options);
      const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
      const amount = parseAmount(text(options, 'amount'), currency);
      if (amount < 0n) throw new ValidationError('--amount must be 0 (no budget) or more.');
      const { walletId, thisMonth } = await applyJudgeBudget(database.db, ledger, {
        orgId: org.id,
        currency: currency.code,
        amount,
        actor,
      });
      const available = (await ledger.balance(walletId)).available;
      const month =
        thisMonth.status === 'over_grant_bounds'
          ? `this month's was not funded: ${thisMonth.message}`
          : thisMonth.status === 'funded'
            ? "this month's is funded now"
            : thisMonth.status === 'removed'
              ? 'no more monthly funding'
              : 'this month was funded already (a new amount applies from next month)';
      const what =
        amount === 0n
          ? `Judge budget of org ${org.slug} removed`
          : `Judge budget of org ${org.slug}: ${formatAmount(amount, currency)} ${currency.code} a month`;
      return {
        text: `${what}; ${month}. Judge wallet: ${formatAmount(available, currency)} ${currency.code} available.`,
        data: { walletId, thisMonth, available },
      };
    },
  },

  'judge-budget show': {
    summary: 'the monthly judge budget and what the judge wallet holds',
    options: [orgOption],
    async run({ database, ledger }, options) {
      const org = await orgOf(database.db, options);
      const budgets = await listJudgeBudgets(database.db, { orgId: org.id });
      const lines: string[] = [];
      for (const currency of currencies) {
        const wallet = await findAccount(database.db, judgeWalletKey({ orgId: org.id, currency: currency.code }));
        const available = wallet === undefined ? 0n : (await ledger.balance(wallet.id)).available;
        const budget = budgets.find((row) => row.currency === currency.code);
        lines.push(
          `${currency.code.padEnd(11)} ${budget === undefined ? 'no monthly budget' : `${formatAmount(budget.amount, currency)} a month`}, judge wallet ${formatAmount(available, currency)} available`,
        );
      }
      return {
        text: `Judge budget of org ${org.slug} (its requests' judging is paid from it):\n  ${lines.join('\n  ')}`,
        data: budgets,
      };
    },
  },
};
