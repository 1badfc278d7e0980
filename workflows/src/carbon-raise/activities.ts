import {
  denyRaiseAtDeadline,
  endRaise,
  ensureRaiseGranted,
  type RaiseDeps,
  type RaiseOutcome,
} from '@tokenwise/control';
import { microgramsToGrams } from '@tokenwise/core';
import { findCarbonRaise, insertNotificationsOnce, pageUserIdsWithRole, type CarbonRaise } from '@tokenwise/db';

export type CarbonRaiseDeps = RaiseDeps;

/** ESG officers notified of one raise, at most. */
export const raiseOfficersNotifiedMax = 100;

/** Notification kinds of raises (the Slack bot delivers them). */
export const raiseNotificationKinds = {
  requested: 'carbon_raise_requested',
  decided: 'carbon_raise_decided',
} as const;

const raisePayload = (raise: CarbonRaise) => ({
  raiseId: raise.id,
  scope: raise.scope,
  scopeId: raise.scopeId,
  requestedBy: raise.requestedBy,
  requestedGrams: microgramsToGrams(raise.requestedMicrograms),
  reason: raise.reason,
  until: raise.until,
  deadlineAt: raise.deadlineAt.toISOString(),
});

/** Activities of the raise approval workflow: notifications, the deadline's denial, the grant, the end. */
export function createCarbonRaiseActivities(deps: CarbonRaiseDeps) {
  async function raiseOf(raiseId: string): Promise<CarbonRaise> {
    const raise = await findCarbonRaise(deps.db, { raiseId });
    // The relay starts a workflow only for a committed row: a missing one is a bug, not an outage.
    if (raise === undefined) throw new Error(`No carbon raise ${raiseId}.`);
    return raise;
  }

  return {
    /** Notifies the org's ESG officers of a raise still pending, each once (dedupe keys survive retries). */
    async notifyRaiseOfficers(input: { raiseId: string }): Promise<number> {
      const raise = await raiseOf(input.raiseId);
      if (raise.state !== 'pending') return 0;
      const officers = await pageUserIdsWithRole(deps.db, {
        orgId: raise.orgId,
        role: 'esg',
        limit: raiseOfficersNotifiedMax,
      });
      return insertNotificationsOnce(deps.db, {
        rows: officers.map((userId) => ({
          orgId: raise.orgId,
          userId,
          kind: raiseNotificationKinds.requested,
          payload: raisePayload(raise),
          dedupeKey: `carbon-raise-requested-${raise.id}-${userId}`,
        })),
      });
    },

    /** Where the raise stands; an approval's grant is applied first (idempotent by its transfer id). */
    async ensureRaiseGranted(input: { raiseId: string }): Promise<RaiseOutcome> {
      return ensureRaiseGranted(deps, input);
    },

    /** Denies the raise if still pending (decided by `deadline`); a person's earlier decision stands. */
    async denyRaiseAtDeadline(input: { raiseId: string }): Promise<RaiseOutcome> {
      return denyRaiseAtDeadline(deps, input);
    },

    /** Tells the requester how their raise was decided, once. */
    async notifyRaiseRequester(input: { raiseId: string }): Promise<number> {
      const raise = await raiseOf(input.raiseId);
      if (raise.state === 'pending') return 0;
      return insertNotificationsOnce(deps.db, {
        rows: [
          {
            orgId: raise.orgId,
            userId: raise.requestedBy,
            kind: raiseNotificationKinds.decided,
            payload: {
              ...raisePayload(raise),
              state: raise.state,
              decidedBy: raise.decidedBy,
              decidedAt: raise.decidedAt?.toISOString() ?? null,
              grantedGrams: raise.grantedMicrograms === null ? null : microgramsToGrams(raise.grantedMicrograms),
              note: raise.note,
            },
            dedupeKey: `carbon-raise-decided-${raise.id}`,
          },
        ],
      });
    },

    /** Marks an approved `until` raise ended at its last period's close. */
    async endCarbonRaise(input: { raiseId: string; endedAt: string }): Promise<void> {
      await endRaise(deps.db, { raiseId: input.raiseId, endedAt: new Date(input.endedAt) });
    },
  };
}
