import { findCarbonRaise, type ClaimedSlackDelivery, type Db } from '@tokenwise/db';
import { softThresholdMessage, raiseDecidedMessage } from './notice-blocks';
import { raiseNote, softThresholdNote } from './payloads';
import { raiseCopyMessage, deciderLabel } from './raise-copies';
import type { SlackMessage } from './raise-blocks';

/** Notification kinds sent one message each, at once (settlements go in digests). */
export const immediateKinds = {
  softThreshold: 'carbon_soft_threshold',
  raiseRequested: 'carbon_raise_requested',
  raiseDecided: 'carbon_raise_decided',
} as const;
export const immediateKindList: readonly string[] = Object.values(immediateKinds);

/** What to send for one notification, or why nothing can be. */
export type Composed =
  | {
      kind: 'message';
      message: SlackMessage;
      raise?: { raiseId: string; shownState: 'pending' | 'approved' | 'denied' };
    }
  | { kind: 'unsendable'; error: string };

/** The message for one immediate notification; a raise request shows the raise as it stands now. */
export async function composeImmediate(db: Db, orgId: string, row: ClaimedSlackDelivery): Promise<Composed> {
  if (row.kind === immediateKinds.softThreshold)
    return { kind: 'message', message: softThresholdMessage(softThresholdNote(row.payload)) };
  const note = raiseNote(row.payload);
  if (row.kind === immediateKinds.raiseDecided)
    return { kind: 'message', message: raiseDecidedMessage(note, await deciderLabel(db, note.decidedBy)) };
  if (row.kind === immediateKinds.raiseRequested) {
    const raise = note.raiseId === null ? undefined : await findCarbonRaise(db, { raiseId: note.raiseId, orgId });
    if (raise === undefined) return { kind: 'unsendable', error: `no raise ${note.raiseId ?? '(none named)'}` };
    const { message, shownState } = await raiseCopyMessage(db, raise);
    return { kind: 'message', message, raise: { raiseId: raise.id, shownState } };
  }
  return { kind: 'unsendable', error: `unknown kind ${row.kind}` };
}
