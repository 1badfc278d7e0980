import { carbonPeriodKinds, microgramsToGrams, ValidationError, type CarbonPeriodKind } from '@tokenwise/core';
import { carbonScopeStatus, setCarbonCap } from '@tokenwise/control';
import { currentCarbonCapsOfOrg } from '@tokenwise/db';
import { UsageError } from '../../usage-error';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption, ownerOf, ownerOptions } from './lookups';
import { optionalText } from './option-values';

const capOwnerOptions = ownerOptions.map((option) => ({
  ...option,
  description: option.name === 'user' ? "a user's cap (not with --team)" : "a team's cap (not with --user)",
}));

function periodOf(value: string | undefined): CarbonPeriodKind {
  const period = value ?? 'month';
  if (!(carbonPeriodKinds as readonly string[]).includes(period))
    throw new ValidationError(`--period must be month or quarter, got "${period}".`);
  return period as CarbonPeriodKind;
}

/** `carbon cap set|list|status`: an org's carbon caps, as an ESG officer sets them through the API. */
export const carbonCapCommands: AdminCommandSpecs = {
  'carbon cap set': {
    summary:
      "set or remove the carbon cap of an org, a team (--team) or a user (--user); the period's budget moves by the difference",
    options: [
      orgOption,
      ...capOwnerOptions,
      { name: 'grams', value: 'grams', description: 'the hard cap in grams CO2e per period (up to 6 decimals)' },
      { name: 'remove', description: 'remove the cap: no limit (instead of --grams)' },
      {
        name: 'period',
        value: 'month|quarter',
        description: "the budget period, in the org's time zone (default month)",
      },
      { name: 'soft-percent', value: 'n', description: 'notify once per period at this percent of the cap (1..100)' },
    ],
    async run({ database, ledger }, options, actor) {
      const owner = await ownerOf(database.db, options);
      const grams = optionalText(options, 'grams');
      if ((grams === undefined) === (options.remove !== true))
        throw new UsageError('Give --grams <grams> to set the cap, or --remove to remove it.');
      if (grams !== undefined && !/^\d{1,10}(\.\d{1,6})?$/.test(grams))
        throw new ValidationError(
          `--grams must be a number of grams with at most 6 decimals, such as 500 or 12.5, got "${grams}".`,
        );
      const soft = optionalText(options, 'soft-percent');
      if (soft !== undefined && !/^\d{1,3}$/.test(soft))
        throw new ValidationError(`--soft-percent must be a whole number from 1 to 100, got "${soft}".`);
      const { current } = await setCarbonCap(
        { db: database.db, ledger },
        {
          orgId: owner.org.id,
          timeZone: owner.org.timeZone,
          actor,
          input: {
            scope: owner.ownerType,
            ...(owner.ownerType === 'team' ? { teamId: owner.ownerId } : {}),
            ...(owner.ownerType === 'user' ? { userId: owner.ownerId } : {}),
            period: periodOf(optionalText(options, 'period')),
            hardGrams: grams === undefined ? null : Number(grams),
            softPercent: soft === undefined ? null : Number(soft),
          },
        },
      );
      const text =
        current.hardMicrograms === null
          ? `Removed the carbon cap of ${owner.label} (version ${current.version}): no limit.`
          : `Carbon cap of ${owner.label}: ${microgramsToGrams(current.hardMicrograms)} g CO2e per ${current.period}` +
            `${current.softPercent === null ? '' : `, notify at ${current.softPercent}%`} (version ${current.version}).`;
      return { text, data: current };
    },
  },
  'carbon cap list': {
    summary: 'the carbon caps in force in an org',
    options: [orgOption],
    async run({ database }, options) {
      const org = await orgOf(database.db, options);
      const caps = await currentCarbonCapsOfOrg(database.db, { orgId: org.id });
      const lines = caps.map(
        (cap) =>
          `${cap.scope} ${cap.scopeId}: ${microgramsToGrams(cap.hardMicrograms ?? 0n)} g per ${cap.period}` +
          `${cap.softPercent === null ? '' : `, soft ${cap.softPercent}%`} (v${cap.version} by ${cap.createdBy})`,
      );
      return {
        text: lines.length === 0 ? `No carbon caps in org ${org.slug}: no limit.` : lines.join('\n'),
        data: caps,
      };
    },
  },
  'carbon status': {
    summary: "an org's, a team's (--team) or a user's (--user) carbon budget this period: cap, used, held, left",
    options: [orgOption, ...ownerOptions],
    async run({ database, ledger }, options) {
      const owner = await ownerOf(database.db, options);
      const status = await carbonScopeStatus(
        { db: database.db, ledger },
        { orgId: owner.org.id, timeZone: owner.org.timeZone, scope: owner.ownerType, scopeId: owner.ownerId },
      );
      const cap = status.capGrams === null ? 'no cap' : `cap ${status.capGrams} g`;
      const left = status.remainingGrams === null ? '' : `, ${status.remainingGrams} g left`;
      return {
        text: `${owner.label}, ${status.period}: ${cap}, ${status.usedGrams} g used, ${status.heldGrams} g held${left}; resets ${status.resetsAt}.`,
        data: status,
      };
    },
  },
};
