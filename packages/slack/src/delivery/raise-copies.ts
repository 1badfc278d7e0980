import type { webApi } from '@slack/bolt';
import { raiseDeadlineDecider } from '@tokenwise/control';
import { microgramsToGrams } from '@tokenwise/core';
import {
  findCarbonRaise,
  findUserLabel,
  listSlackRaiseMessages,
  markSlackRaiseMessageShown,
  type CarbonRaise,
  type Db,
} from '@tokenwise/db';
import {
  raiseDecidedCopyMessage,
  raiseRequestMessage,
  type RaiseDecisionView,
  type RaiseView,
  type SlackMessage,
} from './raise-blocks';
import { classifySlackFailure, type SlackFailure } from './slack-errors';

export interface RaiseCopyDeps {
  db: Db;
  /** A client that fails fast (no SDK retries): what fails is retried by the delivery loop's sweep. */
  client: webApi.WebClient;
  orgId: string;
  log: (line: string) => void;
}

/** Who decided, as people read it: a user's name and email, or the deadline. */
export async function deciderLabel(db: Db, decidedBy: string | null): Promise<string> {
  if (decidedBy === null || decidedBy === raiseDeadlineDecider) return 'its deadline (no ESG officer decided in time)';
  return (await findUserLabel(db, { userId: decidedBy })) ?? `user ${decidedBy}`;
}

async function viewOf(db: Db, raise: CarbonRaise): Promise<RaiseView> {
  return {
    raiseId: raise.id,
    scope: raise.scope,
    requesterLabel: (await findUserLabel(db, { userId: raise.requestedBy })) ?? `user ${raise.requestedBy}`,
    requestedGrams: microgramsToGrams(raise.requestedMicrograms),
    reason: raise.reason,
    until: raise.until,
    deadlineAt: raise.deadlineAt.toISOString(),
  };
}

async function decisionOf(db: Db, raise: CarbonRaise): Promise<RaiseDecisionView | null> {
  if (raise.state === 'pending') return null;
  return {
    state: raise.state,
    deciderLabel: await deciderLabel(db, raise.decidedBy),
    decidedAt: raise.decidedAt,
    grantedGrams: raise.grantedMicrograms === null ? null : microgramsToGrams(raise.grantedMicrograms),
  };
}

/** The message an officer's copy of the raise shows now: buttons while pending, the decision after. */
export async function raiseCopyMessage(
  db: Db,
  raise: CarbonRaise,
): Promise<{ message: SlackMessage; shownState: CarbonRaise['state'] }> {
  const view = await viewOf(db, raise);
  const decision = await decisionOf(db, raise);
  return decision === null
    ? { message: raiseRequestMessage(view), shownState: 'pending' }
    : { message: raiseDecidedCopyMessage(view, decision), shownState: decision.state };
}

/**
 * Updates every officer's copy of a decided raise that does not show its decision yet
 * (`chat.update`), recording each one Slack took. Answers the first failure (copies after a
 * rate limit are left for the loop's sweep), or undefined when all are current.
 */
export async function refreshRaiseCopies(deps: RaiseCopyDeps, raiseId: string): Promise<SlackFailure | undefined> {
  const raise = await findCarbonRaise(deps.db, { raiseId, orgId: deps.orgId });
  if (raise === undefined || raise.state === 'pending') return undefined;
  const state = raise.state;
  const stale = (await listSlackRaiseMessages(deps.db, { raiseId })).filter((copy) => copy.shownState !== state);
  if (stale.length === 0) return undefined;
  const { message } = await raiseCopyMessage(deps.db, raise);
  let failure: SlackFailure | undefined;
  for (const copy of stale) {
    try {
      await deps.client.chat.update({ channel: copy.channel, ts: copy.ts, text: message.text, blocks: message.blocks });
      await markSlackRaiseMessageShown(deps.db, { raiseId, userId: copy.userId, shownState: state });
    } catch (error) {
      const found = classifySlackFailure(error);
      deps.log(`slack: updating a copy of raise ${raiseId} failed (${found.error}); the delivery loop retries it`);
      failure ??= found;
      if (found.kind === 'rate_limited') break;
      if (found.kind !== 'transient')
        // A copy Slack will never update (deleted, or the DM gone) is not tried forever.
        await markSlackRaiseMessageShown(deps.db, { raiseId, userId: copy.userId, shownState: state });
    }
  }
  return failure;
}
