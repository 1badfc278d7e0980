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

/** `1.2 gCO2e (1 operational + 0.2 embodied; market 0.3)`, flagged when the model had no carbon profile. */
function carbonOf(row: {
  co2eMicrograms: bigint;
  operationalCo2eMicrograms: bigint;
  embodiedCo2eMicrograms: bigint;
  marketCo2eMicrograms: bigint | null;
  carbonAssumed: boolean;
}): string {
  const market = row.marketCo2eMicrograms === null ? '' : `; market ${grams(row.marketCo2eMicrograms)}`;
  const assumed = row.carbonAssumed ? ' ASSUMED (no model profile)' : '';
  return `${grams(row.co2eMicrograms)} gCO2e (${grams(row.operationalCo2eMicrograms)} operational + ${grams(row.embodiedCo2eMicrograms)} embodied${market})${assumed}`;
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
  operationalCo2eMicrograms: true,
  embodiedCo2eMicrograms: true,
  marketCo2eMicrograms: true,
  carbonAssumed: true,
  carbonMethodology: true,
  outcome: true,
  priceListVersion: true,
  sessionId: true,
  experimentKey: true,
  variantKey: true,
} as const;

/** `  session s-1  experiment checkout:blue`, or nothing for an untagged request. */
function evidenceTagsOf(row: { sessionId: string | null; experimentKey: string | null; variantKey: string | null }) {
  const session = row.sessionId === null ? '' : `  session ${row.sessionId}`;
  const experiment = row.experimentKey === null ? '' : `  experiment ${row.experimentKey}:${row.variantKey ?? ''}`;
  return `${session}${experiment}`;
}

/** `usage`: what requests cost. */
export const usageCommands: AdminCommandSpecs = {
  usage: {
    summary: 'recent requests, newest first: tokens, cost, gCO2e (operational + embodied, market-based)',
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
        return `${row.createdAt.toISOString()}  ${row.requestId}  ${row.model}  ${row.tier}  ${row.promptTokens} in / ${row.completionTokens} out  ${money(row.cost, row.currency)}${fee}  ${carbonOf(row)}  ${row.outcome}${evidenceTagsOf(row)}`;
      });
      const whose = email === undefined ? `org ${org.slug}` : `${email} (${org.slug})`;
      return {
        text: `Latest usage of ${whose}, newest first:\n  ${lines.length === 0 ? '(no usage yet)' : lines.join('\n  ')}`,
        data: rows,
      };
    },
  },
};
