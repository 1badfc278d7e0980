import type { types } from '@slack/bolt';
import { clip, escapeMrkdwn, grams } from '../format';
import type { RaiseNote } from './payloads';

/** The buttons on a raise request (the hidden checks click them by these ids; the value is the raise id). */
export const raiseApproveActionId = 'carbon_raise_approve';
export const raiseDenyActionId = 'carbon_raise_deny';

/** A message as chat.postMessage / chat.update take it: fallback text and blocks. */
export interface SlackMessage {
  text: string;
  blocks: types.KnownBlock[];
}

const reasonCharsMax = 1_500;

/** A raise as the officers' messages show it. */
export interface RaiseView {
  raiseId: string;
  scope: string;
  requesterLabel: string;
  requestedGrams: number;
  reason: string;
  until: string | null;
  deadlineAt: string | null;
}

/** How a raise was decided, for the message that replaces the buttons. */
export interface RaiseDecisionView {
  state: 'approved' | 'denied';
  deciderLabel: string;
  decidedAt: Date | null;
  grantedGrams: number | null;
}

function scopeWords(scope: string): string {
  return scope === 'org' ? "the org's cap" : scope === 'team' ? "their team's cap" : 'their own cap';
}

function requestSection(raise: RaiseView): types.KnownBlock {
  const period = raise.until === null ? 'for this period' : `for each period through ${raise.until}`;
  const text =
    `*Carbon cap raise requested* by ${escapeMrkdwn(raise.requesterLabel)}: ` +
    `+${grams(raise.requestedGrams)} CO2e on ${scopeWords(raise.scope)} ${period}.\n` +
    `> ${escapeMrkdwn(clip(raise.reason, reasonCharsMax)).replace(/\n/g, '\n> ')}`;
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** A raise view from a notification payload and the requester's label. */
export function raiseViewOf(note: RaiseNote, raiseId: string, requesterLabel: string): RaiseView {
  return {
    raiseId,
    scope: note.scope,
    requesterLabel,
    requestedGrams: note.requestedGrams ?? 0,
    reason: note.reason ?? '',
    until: note.until,
    deadlineAt: note.deadlineAt,
  };
}

/** The message an ESG officer gets for a pending raise: what is asked, and Approve / Deny. */
export function raiseRequestMessage(raise: RaiseView): SlackMessage {
  const deadline = raise.deadlineAt === null ? '' : ` Denied unless decided by ${raise.deadlineAt}.`;
  return {
    text: `Carbon cap raise requested by ${raise.requesterLabel}: +${grams(raise.requestedGrams)} CO2e.`,
    blocks: [
      requestSection(raise),
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Raise ${raise.raiseId}.${escapeMrkdwn(deadline)}` }] },
      {
        type: 'actions',
        block_id: `carbon_raise:${raise.raiseId}`,
        elements: [
          {
            type: 'button',
            action_id: raiseApproveActionId,
            text: { type: 'plain_text', text: 'Approve' },
            style: 'primary',
            value: raise.raiseId,
          },
          {
            type: 'button',
            action_id: raiseDenyActionId,
            text: { type: 'plain_text', text: 'Deny' },
            style: 'danger',
            value: raise.raiseId,
          },
        ],
      },
    ],
  };
}

/** One line saying who decided what, with grams and when. */
export function decisionLine(decision: RaiseDecisionView): string {
  const when = decision.decidedAt === null ? '' : ` at ${decision.decidedAt.toISOString()}`;
  if (decision.state === 'approved') {
    const granted = decision.grantedGrams === null ? '' : `: ${grams(decision.grantedGrams)} CO2e granted`;
    return `:white_check_mark: Approved by ${decision.deciderLabel}${when}${granted}.`;
  }
  return `:x: Denied by ${decision.deciderLabel}${when}.`;
}

/** The officer's copy once the raise is decided: the request, who decided it, and no buttons. */
export function raiseDecidedCopyMessage(raise: RaiseView, decision: RaiseDecisionView): SlackMessage {
  const line = decisionLine(decision);
  return {
    text: `Carbon cap raise by ${raise.requesterLabel}: ${line}`,
    blocks: [
      requestSection(raise),
      { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(line) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Raise ${raise.raiseId}.` }] },
    ],
  };
}
