import type { SettlementBounds } from '@tokenwise/core';
import { getSettlementBounds, setSettlementBounds, type StoredSettlementBounds } from '@tokenwise/db';
import type { AdminCommandSpecs } from './admin-command';
import { readJsonFile, settlementFileBytesMax } from './json-file';
import { orgOf, orgOption } from './lookups';
import { fileOption, text } from './option-values';

function describeBounds(bounds: SettlementBounds): string {
  return `largest refund share ${bounds.maxRefundShareBps} bps, largest reward per request ${bounds.maxRewardPerRequest} minor units, at most ${bounds.maxRewardPerUserPerMonth} minor units of rewards per user and month`;
}

function boundsOrigin(stored: StoredSettlementBounds): string {
  return stored.explicit
    ? `set by ${stored.updatedBy} at ${stored.updatedAt?.toISOString()}`
    : 'never set: the defaults apply';
}

/** `bounds ...`: the most any team policy of an org may refund or reward. */
export const boundsCommands: AdminCommandSpecs = {
  'bounds set': {
    summary:
      'set the settlement bounds of an org ({ maxRefundShareBps, maxRewardPerRequest, maxRewardPerUserPerMonth })',
    options: [orgOption, fileOption('settlement bounds')],
    async run({ database }, options, actor) {
      const org = await orgOf(database.db, options);
      const file = text(options, 'file');
      const stored = await setSettlementBounds(database.db, {
        orgId: org.id,
        body: await readJsonFile(file, 'settlement bounds', settlementFileBytesMax),
        actor,
      });
      return {
        text: `Set the settlement bounds of org ${org.slug} from ${file}: ${describeBounds(stored.bounds)}. No team policy settles beyond them.`,
        data: stored,
      };
    },
  },

  'bounds show': {
    summary: "the org's settlement bounds",
    options: [orgOption],
    async run({ database }, options) {
      const org = await orgOf(database.db, options);
      const stored = await getSettlementBounds(database.db, { orgId: org.id });
      return {
        text: `Settlement bounds of org ${org.slug} (${boundsOrigin(stored)}): ${describeBounds(stored.bounds)}.`,
        data: stored,
      };
    },
  },
};
