import { ValidationError } from '@tokenwise/core';
import {
  closeAbandonedAdmissions,
  findAbandonedAdmissions,
  requestTimeoutMsDefault,
  reconcileBatchMax,
  type AbandonedAdmission,
} from '@tokenwise/control';
import type { AdminCommandSpecs } from './admin-command';
import { optionalCount } from './option-values';

/** The gateway's default request timeout, in minutes: a request this old is over, whatever happened. */
const requestTimeoutMinutesDefault = Math.ceil(requestTimeoutMsDefault / 60_000);
/** Twice the request timeout plus a minute: the gateway's own hold lifetime, so nothing live is touched. */
const reconcileOlderThanMinutesDefault = requestTimeoutMinutesDefault * 2 + 1;
/** Rounds of one reconcile run; more left over is closed by the next run. */
const reconcileRoundsMax = 50;
const reconcileListedMax = 20;

function describeAbandoned(admission: AbandonedAdmission): string {
  return `${admission.createdAt.toISOString()}  ${admission.requestId}  ${admission.model}  ${admission.holdIds.join(', ')}`;
}

/** `reconcile`: closes what crashed requests left open. */
export const reconcileCommands: AdminCommandSpecs = {
  reconcile: {
    summary:
      "void the holds of requests that never completed (older than the gateway's request timeout) and release lapsed holds",
    options: [
      {
        name: 'older-than-minutes',
        value: 'minutes',
        description: `only requests admitted this long ago (default ${reconcileOlderThanMinutesDefault})`,
      },
    ],
    async run({ database, ledger }, options) {
      const minutes = optionalCount(options, 'older-than-minutes', 30 * 24 * 60) ?? reconcileOlderThanMinutesDefault;
      if (minutes <= requestTimeoutMinutesDefault) {
        throw new ValidationError(
          `--older-than-minutes must exceed the gateway's request timeout (${requestTimeoutMinutesDefault} min): a younger request may still be running.`,
        );
      }
      const olderThan = new Date(Date.now() - minutes * 60_000);
      const listed: AbandonedAdmission[] = [];
      let closed = 0;
      let rounds = 0;
      for (; rounds < reconcileRoundsMax; rounds++) {
        const found = await findAbandonedAdmissions(database.db, { olderThan, limit: reconcileBatchMax });
        if (found.length === 0) break;
        listed.push(...found.slice(0, Math.max(0, reconcileListedMax - listed.length)));
        const closedNow = await closeAbandonedAdmissions(
          { db: database.db, ledger },
          { olderThan, limit: reconcileBatchMax },
        );
        closed += closedNow;
        if (closedNow === 0) break;
      }
      let expired = 0;
      for (let round = 0; round < reconcileRoundsMax; round++) {
        const released = await ledger.expireDue();
        expired += released;
        if (released === 0) break;
      }
      const more = rounds === reconcileRoundsMax ? '\nMore remain: run it again.' : '';
      const shown =
        listed.length === 0
          ? ''
          : `:\n  ${listed.map(describeAbandoned).join('\n  ')}${closed > listed.length ? `\n  ... and ${closed - listed.length} more` : ''}`;
      return {
        text: `Closed ${closed} abandoned request(s) admitted before ${olderThan.toISOString()} (${minutes} min ago), voiding their holds${shown}\nReleased ${expired} lapsed hold(s).${more}`,
        data: { olderThan, closedRequests: closed, closed: listed, expiredHolds: expired },
      };
    },
  },
};
