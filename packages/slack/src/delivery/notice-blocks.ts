import type { types } from '@slack/bolt';
import { microgramsToGrams } from '@tokenwise/core';
import { clip, escapeMrkdwn, grams, score, tokens } from '../format';
import type { RaiseNote, SettlementNote, SoftThresholdNote } from './payloads';
import { decisionLine, type SlackMessage } from './raise-blocks';

/** Settled requests listed one by one in a digest; the rest are summed up in one line. */
export const digestRowsShownMax = 20;
const reasonCharsMax = 300;

function settlementLine(note: SettlementNote): string {
  const parts = [
    `\`${escapeMrkdwn(clip(note.requestId, 80))}\``,
    note.model === null ? undefined : escapeMrkdwn(clip(note.model, 80)),
    `value ${score(note.score)}`,
    note.refund > 0n ? `refund ${tokens(note.refund, note.currency)}` : undefined,
    note.reward > 0n ? `reward ${tokens(note.reward, note.rewardCurrency ?? note.currency)}` : undefined,
  ].filter((part) => part !== undefined);
  const reason = note.reason === null ? '' : `\n_${escapeMrkdwn(clip(note.reason, reasonCharsMax))}_`;
  return `${parts.join(' · ')}${reason}`;
}

function totals(notes: readonly SettlementNote[]): string {
  const sums = new Map<string, bigint>();
  const add = (label: string, amount: bigint) => sums.set(label, (sums.get(label) ?? 0n) + amount);
  for (const note of notes) {
    if (note.refund > 0n) add(`refund\u0000${note.currency}`, note.refund);
    if (note.reward > 0n) add(`reward\u0000${note.rewardCurrency ?? note.currency}`, note.reward);
  }
  const parts = [...sums].map(([key, amount]) => {
    const [what, currency] = key.split('\u0000') as [string, string];
    return `${what}s ${tokens(amount, currency)}`;
  });
  return parts.length === 0 ? 'no refunds or rewards' : parts.join(', ');
}

/** One message for many settled requests: the newest {@link digestRowsShownMax} listed, totals for all. */
export function settlementDigestMessage(notes: readonly SettlementNote[]): SlackMessage {
  const count = notes.length;
  const shown = notes.slice(-digestRowsShownMax);
  const hidden = count - shown.length;
  const summary = `${count} request${count === 1 ? '' : 's'} settled: ${totals(notes)}.`;
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Your settled requests' } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(summary) } },
    ...shown.map((note): types.KnownBlock => ({
      type: 'section',
      text: { type: 'mrkdwn', text: settlementLine(note) },
    })),
  ];
  const more = hidden > 0 ? `${hidden} older ones are not listed. ` : '';
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: `${more}\`/tokens scores\` shows each plugin's rationale; App Home mutes these.` },
    ],
  });
  return { text: `Tokenwise: ${summary}`, blocks };
}

function scopeName(scope: string): string {
  return scope === 'org' ? "Your org's" : scope === 'team' ? "Your team's" : 'Your';
}

/** A soft carbon threshold crossed: how much of which cap is used, and when it resets. */
export function softThresholdMessage(note: SoftThresholdNote): SlackMessage {
  const used = note.usedMicrograms === null ? 'unknown' : grams(microgramsToGrams(note.usedMicrograms));
  const cap = note.capMicrograms === null ? 'unknown' : grams(microgramsToGrams(note.capMicrograms));
  const percent = note.softPercent === null ? 'its soft threshold' : `${note.softPercent}% of it`;
  const period = note.period === null ? '' : ` for ${note.period}`;
  const resets = note.resetsAt === null ? '' : ` It resets at ${note.resetsAt}.`;
  const text = `${scopeName(note.scope)} carbon use${period} passed ${percent}: ${used} of ${cap} CO2e.${resets}`;
  return {
    text: `Tokenwise: ${text}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:warning: ${escapeMrkdwn(text)}` } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: '`/carbon` shows your use against the caps and lets you ask for a raise.' }],
      },
    ],
  };
}

/** The requester's news: their raise approved (with what was granted) or denied, by whom. */
export function raiseDecidedMessage(note: RaiseNote, deciderLabel: string): SlackMessage {
  const state = note.state === 'approved' ? 'approved' : 'denied';
  const line = decisionLine({
    state,
    deciderLabel,
    decidedAt: note.decidedAt === null ? null : new Date(note.decidedAt),
    grantedGrams: note.grantedGrams,
  });
  const asked = note.requestedGrams === null ? '' : ` of +${grams(note.requestedGrams)} CO2e`;
  const noteText = note.note === null ? '' : `\n> ${escapeMrkdwn(clip(note.note, 1_000))}`;
  return {
    text: `Your carbon cap raise${asked} was ${state}.`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*Your carbon cap raise${asked}:* ${escapeMrkdwn(line)}${noteText}` },
      },
    ],
  };
}
