import { condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { RaiseOutcome } from '@tokenwise/control';
import type { createCarbonRaiseActivities } from './activities';
import {
  carbonRaiseDecidedSignal,
  carbonRaisePhaseQuery,
  type CarbonRaiseInput,
  type CarbonRaisePhase,
  type CarbonRaiseResult,
} from './signals';

// Each step is one or two small database statements (and one ledger transfer): short timeouts,
// retried through a database outage for about an hour; a missing raise row is a bug, not retried.
const activities = proxyActivities<ReturnType<typeof createCarbonRaiseActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 60,
  },
});

/** Decision signals that find the raise still pending before the workflow only waits for its deadline. */
export const raiseWakeupsMax = 10;

/**
 * The approval of one carbon raise (`carbon-raise-<raiseId>`, started by the relay): notifies the
 * ESG officers, waits for a decision (signalled by the relay once committed) or the deadline (then
 * denies it), ensures an approval's grant, notifies the requester, and ends an `until` raise at its
 * last period's close.
 */
export async function carbonRaise(input: CarbonRaiseInput): Promise<CarbonRaiseResult> {
  const { raiseId } = input;
  let phase: CarbonRaisePhase = 'notifying';
  let decisionSignalled = false;
  setHandler(carbonRaiseDecidedSignal, () => {
    decisionSignalled = true;
  });
  setHandler(carbonRaisePhaseQuery, () => phase);

  await activities.notifyRaiseOfficers({ raiseId });
  phase = 'waiting';
  const deadlineMs = Date.parse(input.deadlineAt);
  let outcome: RaiseOutcome | undefined;
  for (let wakeups = 0; outcome === undefined && wakeups < raiseWakeupsMax; wakeups++) {
    const leftMs = deadlineMs - Date.now();
    if (leftMs <= 0 || !(await condition(() => decisionSignalled, leftMs))) break;
    decisionSignalled = false;
    phase = 'granting';
    const seen = await activities.ensureRaiseGranted({ raiseId });
    if (seen.state !== 'pending') outcome = seen;
    else phase = 'waiting';
  }
  if (outcome === undefined) {
    const leftMs = deadlineMs - Date.now();
    if (leftMs > 0) await sleep(leftMs);
    phase = 'deciding';
    outcome = await activities.denyRaiseAtDeadline({ raiseId });
  }
  await activities.notifyRaiseRequester({ raiseId });

  const result: CarbonRaiseResult = {
    raiseId,
    state: outcome.state === 'approved' ? 'approved' : 'denied',
    decidedBy: outcome.decidedBy,
    grantedMicrograms: outcome.grantedMicrograms,
  };
  if (outcome.endsAt !== undefined) {
    phase = 'running-until';
    const leftMs = Date.parse(outcome.endsAt) - Date.now();
    if (leftMs > 0) await sleep(leftMs);
    await activities.endCarbonRaise({ raiseId, endedAt: outcome.endsAt });
    result.endedAt = outcome.endsAt;
  }
  phase = 'done';
  return result;
}
