import type { types } from '@slack/bolt';
import type { ApiCaller } from '../context';
import { gauge, grams } from '../format';

type CarbonStatus = Awaited<ReturnType<ApiCaller['carbon']['status']>>;
type ScopeStatus = CarbonStatus['user'];

export const carbonRaiseRequestAction = 'carbon_raise_request';
export const carbonRaiseCallbackId = 'carbon_raise_submit';
export const raiseBlockIds = { scope: 'raise_scope', grams: 'raise_grams', reason: 'raise_reason' } as const;
export const raiseActionIds = { scope: 'scope', grams: 'grams', reason: 'reason' } as const;

/** One budget in words and a gauge: used and held against the cap, or the month's emissions without one. */
export function scopeLine(label: string, status: ScopeStatus): string {
  if (status.capGrams === null)
    return `*${label}*: ${grams(status.usedGrams)} CO2e this period (${status.period}), no cap`;
  const share = status.capGrams === 0 ? 1 : (status.usedGrams + status.heldGrams) / status.capGrams;
  const held = status.heldGrams > 0 ? `, ${grams(status.heldGrams)} held` : '';
  return [
    `*${label}*: ${grams(status.usedGrams)} of ${grams(status.capGrams)} used (${Math.round(share * 100)}%)${held} · ${status.period}, resets ${status.resetsAt.slice(0, 10)}`,
    `\`${gauge(share)}\``,
  ].join('\n');
}

/** `/carbon`: the caller's, their team's and the org's budget, and the raise button when one is capped. */
export function carbonMessage(status: CarbonStatus): { text: string; blocks: types.KnownBlock[] } {
  const scopes: [string, ScopeStatus][] = [['You', status.user]];
  if (status.team !== null) scopes.push(['Your team', status.team]);
  scopes.push(['Your org', status.org]);
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Carbon budget' } },
    ...scopes.map(([label, scope]): types.KnownBlock => ({
      type: 'section',
      text: { type: 'mrkdwn', text: scopeLine(label, scope) },
    })),
  ];
  if (scopes.some(([, scope]) => scope.capGrams !== null))
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: carbonRaiseRequestAction,
          text: { type: 'plain_text', text: 'Request a raise' },
          value: 'raise',
        },
      ],
    });
  const text = scopes
    .map(([label, scope]) =>
      scope.capGrams === null
        ? `${label}: ${grams(scope.usedGrams)}, no cap`
        : `${label}: ${grams(scope.usedGrams)} of ${grams(scope.capGrams)}`,
    )
    .join('; ');
  return { text: `Carbon: ${text}`, blocks };
}

/** The raise request form; `privateMetadata` carries where to answer once it is filed. */
export function raiseModal(options: {
  canRaiseTeam: boolean;
  canRaiseOrg: boolean;
  privateMetadata: string;
}): types.ModalView {
  const choices = [{ value: 'user', text: 'My own budget' }];
  if (options.canRaiseTeam) choices.push({ value: 'team', text: 'My team’s budget' });
  if (options.canRaiseOrg) choices.push({ value: 'org', text: 'The org’s budget' });
  const option = (choice: { value: string; text: string }) => ({
    text: { type: 'plain_text' as const, text: choice.text },
    value: choice.value,
  });
  return {
    type: 'modal',
    callback_id: carbonRaiseCallbackId,
    private_metadata: options.privateMetadata,
    title: { type: 'plain_text', text: 'Carbon cap raise' },
    submit: { type: 'plain_text', text: 'Ask' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: raiseBlockIds.scope,
        label: { type: 'plain_text', text: 'Which budget' },
        element: {
          type: 'static_select',
          action_id: raiseActionIds.scope,
          options: choices.map(option),
          initial_option: option(choices[0] as { value: string; text: string }),
        },
      },
      {
        type: 'input',
        block_id: raiseBlockIds.grams,
        label: { type: 'plain_text', text: 'Grams of CO2e to add this period' },
        element: {
          type: 'number_input',
          action_id: raiseActionIds.grams,
          is_decimal_allowed: true,
          min_value: '0.001',
        },
      },
      {
        type: 'input',
        block_id: raiseBlockIds.reason,
        label: { type: 'plain_text', text: 'Why' },
        element: { type: 'plain_text_input', action_id: raiseActionIds.reason, multiline: true, max_length: 1_000 },
      },
    ],
  };
}
