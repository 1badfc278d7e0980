import { NotFoundError } from '@tokenwise/core';
import { findUserByEmail } from '@tokenwise/db';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { money } from './money';
import { optionalCount, optionalText } from './option-values';

/** Micrograms as grams, exact: six decimals at most, trailing zeros dropped. */
function grams(micrograms: bigint): string {
  const whole = micrograms / 1_000_000n;
  const fraction = (micrograms % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

const usageColumns = {
  createdAt: true,
  requestId: true,
  userId: true,
  model: true,
  tier: true,
  promptTokens: true,
  completionTokens: true,
  currency: true,
  cost: true,
  feeCurrency: true,
  fee: true,
  co2eMicrograms: true,
  outcome: true,
  priceListVersion: true,
} as const;

/** `usage`: what requests cost. */
export const usageCommands: AdminCommandSpecs = {
  usage: {
    summary: 'recent requests, newest first: tokens, cost, gCO2e',
    options: [
      orgOption,
      { name: 'user', value: 'email', description: "only this user's requests" },
      { name: 'limit', value: 'count', description: 'how many, 1 to 100 (default 20)' },
    ],
    async run({ database }, options) {
      const org = await orgOf(database.db, options);
      const email = optionalText(options, 'user');
      const user = email === undefined ? undefined : await findUserByEmail(database.db, { orgId: org.id, email });
      if (email !== undefined && user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
      const limit = optionalCount(options, 'limit', 100) ?? 20;
      const rows = await database.db.query.usageRecords.findMany({
        columns: usageColumns,
        where: (usage, { and, eq }) =>
          user === undefined ? eq(usage.orgId, org.id) : and(eq(usage.orgId, org.id), eq(usage.userId, user.id)),
        orderBy: (usage, { desc }) => [desc(usage.createdAt), desc(usage.requestId)],
        limit,
      });
      const lines = rows.map((row) => {
        const fee = row.feeCurrency === null || row.fee === null ? '' : ` + fee ${money(row.fee, row.feeCurrency)}`;
        return `${row.createdAt.toISOString()}  ${row.requestId}  ${row.model}  ${row.tier}  ${row.promptTokens} in / ${row.completionTokens} out  ${money(row.cost, row.currency)}${fee}  ${grams(row.co2eMicrograms)} gCO2e  ${row.outcome}`;
      });
      const whose = email === undefined ? `org ${org.slug}` : `${email} (${org.slug})`;
      return {
        text: `Latest usage of ${whose}, newest first:\n  ${lines.length === 0 ? '(no usage yet)' : lines.join('\n  ')}`,
        data: rows,
      };
    },
  },
};
