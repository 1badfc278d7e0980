import { microgramsToGrams, ValidationError } from '@tokenwise/core';
import { listCarbonRaises, type CarbonRaise, type CarbonRaiseState, type Org } from '@tokenwise/db';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { optionalText } from './option-values';

const raiseStates: readonly CarbonRaiseState[] = ['pending', 'approved', 'denied'];

function stateOf(value: string | undefined): CarbonRaiseState | undefined {
  if (value === undefined) return undefined;
  if (!(raiseStates as readonly string[]).includes(value))
    throw new ValidationError(`--state must be one of ${raiseStates.join(', ')}, got "${value}".`);
  return value as CarbonRaiseState;
}

/** One raise as a line: when, scope, grams asked and granted, state, who decided, reason. */
function raiseLine(raise: CarbonRaise): string {
  const granted = raise.grantedMicrograms === null ? '' : `, granted ${microgramsToGrams(raise.grantedMicrograms)} g`;
  const decided = raise.decidedBy === null ? `deadline ${raise.deadlineAt.toISOString()}` : `by ${raise.decidedBy}`;
  const until = raise.until === null ? '' : ` until ${raise.until}`;
  return `${raise.createdAt.toISOString()}  ${raise.id}  ${raise.scope} ${raise.scopeId}  ${microgramsToGrams(raise.requestedMicrograms)} g asked${granted}${until}  ${raise.state} (${decided})  "${raise.reason}"`;
}

/** `carbon raises`: cap raise requests and their decisions. */
export const carbonRaiseCommands: AdminCommandSpecs = {
  'carbon raises': {
    summary: "an org's carbon cap raise requests and their decisions, newest first",
    options: [
      orgOption,
      { name: 'state', value: 'state', description: `only raises in this state: ${raiseStates.join(', ')}` },
    ],
    async run({ database }, options) {
      const org: Org = await orgOf(database.db, options);
      const state = stateOf(optionalText(options, 'state'));
      const raises = await listCarbonRaises(database.db, { visibility: { orgId: org.id }, state });
      const lines = raises.map(raiseLine);
      return {
        text: `Carbon raises of org ${org.slug}${state === undefined ? '' : ` (${state})`}, newest first:\n  ${lines.length === 0 ? '(none)' : lines.join('\n  ')}`,
        data: raises.map((raise) => ({
          ...raise,
          requestedGrams: microgramsToGrams(raise.requestedMicrograms),
          grantedGrams: raise.grantedMicrograms === null ? null : microgramsToGrams(raise.grantedMicrograms),
        })),
      };
    },
  },
};
