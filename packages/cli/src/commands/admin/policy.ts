import { NotFoundError, type SettlementPolicy } from '@tokenwise/core';
import { currentSettlementPolicy, publishSettlementPolicy } from '@tokenwise/db';
import type { AdminCommandSpecs } from './admin-command';
import { readJsonFile, settlementFileBytesMax } from './json-file';
import { teamOf, teamOptions } from './lookups';
import { money } from './money';
import { fileOption, text } from './option-values';

function describePolicy(policy: SettlementPolicy): string {
  const tiers = [...policy.refunds]
    .sort((a, b) => a.minScore - b.minScore)
    .map((tier) => `refund ${tier.shareBps} bps of the cost at score >= ${tier.minScore}`);
  const reward =
    policy.reward === undefined
      ? 'no reward'
      : `reward ${money(policy.reward.amount, policy.reward.currency)} at score >= ${policy.reward.minScore}, at most ${policy.maxRewardShareBps} bps of the cost`;
  return [
    ...(tiers.length === 0 ? ['no refunds'] : tiers),
    reward,
    `nothing below confidence ${policy.minConfidence}`,
  ].join('\n  ');
}

function describeWarnings(warnings: readonly string[]): string {
  return warnings.length === 0
    ? ''
    : `\nBeyond the org's bounds (stored; settlements cap it):\n  ${warnings.join('\n  ')}`;
}

/** `policy ...`: how a team's requests are refunded and rewarded by their score. */
export const policyCommands: AdminCommandSpecs = {
  'policy set': {
    summary:
      "set the team's next settlement-policy version; warns when it goes beyond the org's bounds, which settlements enforce",
    options: [...teamOptions, fileOption('settlement policy')],
    async run({ database }, options, actor) {
      const { team, label } = await teamOf(database.db, options);
      const file = text(options, 'file');
      const published = await publishSettlementPolicy(database.db, {
        teamId: team.id,
        body: await readJsonFile(file, 'settlement policy', settlementFileBytesMax),
        actor,
      });
      return {
        text: `Published settlement policy version ${published.version} for ${label} from ${file}:\n  ${describePolicy(published.policy)}\nRequests admitted from now on settle under it.${describeWarnings(published.warnings)}`,
        data: published,
      };
    },
  },

  'policy show': {
    summary: "the team's settlement policy: version, refunds, reward and any bound it exceeds",
    options: [...teamOptions],
    async run({ database }, options) {
      const { org, team, label } = await teamOf(database.db, options);
      const current = await currentSettlementPolicy(database.db, { teamId: team.id });
      if (current === undefined)
        throw new NotFoundError(
          `No settlement policy for ${label} yet: set one with \`tokenwise policy set --org ${org.slug} --team ${team.slug} --file policy.json\`.`,
        );
      return {
        text: `Settlement policy version ${current.version} of ${label}, by ${current.createdBy} at ${current.createdAt.toISOString()}:\n  ${describePolicy(current.policy)}${describeWarnings(current.warnings)}`,
        data: current,
      };
    },
  },
};
