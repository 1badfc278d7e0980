import {
  currencies,
  currencyByCode,
  formatAmount,
  grantClientIdOf,
  parseAmount,
  ValidationError,
} from '@tokenwise/core';
import { findAccount, type Transfer } from '@tokenwise/ledger';
import { randomUUID } from 'node:crypto';
import type { AdminCommandSpecs } from './admin-command';
import { orgOption, ownerOf, ownerOptions } from './lookups';
import { currencyOption, optionalText, text } from './option-values';

/** One history line; a grant of the account's org shows the id its admin gave it. */
function describeTransfer(transfer: Transfer, accountId: string, orgId: string): string {
  const currency = currencyByCode(transfer.currency);
  const sign = transfer.creditAccountId === accountId ? '+' : '-';
  const held =
    transfer.type === 'pending'
      ? ' (held)'
      : transfer.type === 'void' || transfer.type === 'expire'
        ? ' (released)'
        : '';
  return `${transfer.createdAt.toISOString()}  ${String(transfer.seq).padStart(8)}  ${transfer.type.padEnd(8)} ${sign}${formatAmount(transfer.amount, currency).padStart(14)} ${currency.code}${held}  ${transfer.code}  ${grantClientIdOf(orgId, transfer.id) ?? transfer.id}`;
}

/** `grant`, `balance` and `history`: the wallets of users, teams and orgs. */
export const walletCommands: AdminCommandSpecs = {
  grant: {
    summary:
      "grant tokens to a wallet (the org's own when neither --user nor --team is given), or with --monthly this month's allowance, once",
    options: [
      orgOption,
      ...ownerOptions,
      { name: 'amount', value: 'amount', required: true, description: 'how much, e.g. 12.5' },
      currencyOption,
      { name: 'reason', value: 'text', description: 'why (required unless --monthly)' },
      {
        name: 'id',
        value: 'key',
        description: 'your id for the grant, unique in the org: granting it again moves nothing',
      },
      { name: 'monthly', description: "this month's allowance instead, granted once per month" },
    ],
    async run({ database, ledger }, options, actor) {
      const owner = await ownerOf(database.db, options);
      const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
      const amount = parseAmount(text(options, 'amount'), currency);
      if (amount <= 0n) throw new ValidationError('--amount must be greater than zero.');
      const wallet = await ledger.ensureAccount({
        ownerType: owner.ownerType,
        ownerId: owner.ownerId,
        orgId: owner.org.id,
        currency: currency.code,
        purpose: 'wallet',
      });
      if (options.monthly === true) {
        const result = await ledger.grantAllowance({
          to: wallet.id,
          currency: currency.code,
          amount,
          at: new Date(),
          timeZone: owner.org.timeZone,
          actor,
          orgId: owner.org.id,
        });
        const verb = result.duplicate ? 'was already granted' : 'granted';
        return {
          text: `Monthly allowance ${result.period} (${owner.org.timeZone}) ${verb}: ${formatAmount(amount, currency)} ${currency.code} to ${owner.label}.`,
          data: result,
        };
      }
      // The id is the admin's, unique within the org; the ledger namespaces it by org.
      const id = optionalText(options, 'id') ?? randomUUID();
      const result = await ledger.grant({
        id,
        to: wallet.id,
        currency: currency.code,
        amount,
        actor,
        reason: text(options, 'reason'),
        orgId: owner.org.id,
      });
      const balance = await ledger.balance(wallet.id);
      const note = result.duplicate ? ' (already applied earlier: nothing moved this time)' : '';
      return {
        text: `Granted ${formatAmount(amount, currency)} ${currency.code} to ${owner.label}${note}. Grant id ${id}. Available: ${formatAmount(balance.available, currency)} ${currency.code}.`,
        data: { ...result, balance },
      };
    },
  },

  balance: {
    summary: "a wallet's balance in every currency",
    options: [orgOption, ...ownerOptions],
    async run({ database, ledger }, options) {
      const owner = await ownerOf(database.db, options);
      const lines: string[] = [];
      const data: unknown[] = [];
      for (const currency of currencies) {
        const account = await findAccount(database.db, {
          ownerType: owner.ownerType,
          ownerId: owner.ownerId,
          currency: currency.code,
          purpose: 'wallet',
        });
        if (account === undefined) {
          lines.push(`${currency.code.padEnd(11)} available 0 (no wallet yet)`);
          continue;
        }
        const balance = await ledger.balance(account.id);
        data.push(balance);
        lines.push(
          `${currency.code.padEnd(11)} available ${formatAmount(balance.available, currency)}, held ${formatAmount(balance.debitsPending, currency)}, posted ${formatAmount(balance.posted, currency)}`,
        );
      }
      return { text: `Balance of ${owner.label}:\n  ${lines.join('\n  ')}`, data };
    },
  },

  history: {
    summary: "a wallet's latest transfers, newest first",
    options: [
      orgOption,
      ...ownerOptions,
      currencyOption,
      { name: 'limit', value: 'count', description: 'how many (default 20)' },
    ],
    async run({ database, ledger }, options) {
      const owner = await ownerOf(database.db, options);
      const currency = currencyByCode(optionalText(options, 'currency') ?? 'innovation');
      const limit = Number(optionalText(options, 'limit') ?? '20');
      const account = await findAccount(database.db, {
        ownerType: owner.ownerType,
        ownerId: owner.ownerId,
        currency: currency.code,
        purpose: 'wallet',
      });
      if (account === undefined) return { text: `${owner.label} has no ${currency.code} wallet yet.`, data: [] };
      const transfers = await ledger.history(account.id, { limit });
      const body =
        transfers.length === 0
          ? '(no transfers)'
          : transfers.map((transfer) => describeTransfer(transfer, account.id, owner.org.id)).join('\n  ');
      return { text: `Latest ${currency.code} transfers of ${owner.label}, newest first:\n  ${body}`, data: transfers };
    },
  },
};
