import type { App, BlockAction, ViewSubmitAction } from '@slack/bolt';
import type { SlackContext } from '../context';
import { grams } from '../format';
import {
  carbonMessage,
  carbonRaiseCallbackId,
  carbonRaiseRequestAction,
  raiseActionIds,
  raiseBlockIds,
  raiseModal,
} from './carbon-blocks';
import { asLinkedUser, refusalText } from './linked-user';

type Values = ViewSubmitAction['view']['state']['values'];

/** Where the outcome of a raise request goes: the response URL of the message whose button opened the form. */
interface RaiseMetadata {
  responseUrl: string | null;
}

function parseMetadata(text: string): RaiseMetadata {
  try {
    const value = JSON.parse(text) as { responseUrl?: unknown };
    return { responseUrl: typeof value.responseUrl === 'string' ? value.responseUrl : null };
  } catch {
    return { responseUrl: null };
  }
}

/** The form's fields, or the per-field errors Slack shows in the modal. */
export function parseRaiseForm(
  values: Values,
):
  | { ok: true; scope: 'user' | 'team' | 'org'; grams: number; reason: string }
  | { ok: false; errors: Record<string, string> } {
  const scope = values[raiseBlockIds.scope]?.[raiseActionIds.scope]?.selected_option?.value ?? 'user';
  const gramsText = values[raiseBlockIds.grams]?.[raiseActionIds.grams]?.value ?? '';
  const reason = (values[raiseBlockIds.reason]?.[raiseActionIds.reason]?.value ?? '').trim();
  const errors: Record<string, string> = {};
  const amount = Number(gramsText);
  if (!Number.isFinite(amount) || amount <= 0) errors[raiseBlockIds.grams] = 'Give a number of grams above 0.';
  if (reason.length === 0) errors[raiseBlockIds.reason] = 'Say why the raise is needed.';
  if (scope !== 'user' && scope !== 'team' && scope !== 'org') errors[raiseBlockIds.scope] = 'Choose a budget.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, scope: scope as 'user' | 'team' | 'org', grams: amount, reason };
}

/** `/carbon`, its "Request a raise" button (a modal) and the modal's submission (carbon.requestRaise). */
export function registerCarbonCommand(app: App, ctx: SlackContext): void {
  app.command('/carbon', async ({ ack, command, respond }) => {
    await ack();
    await asLinkedUser(ctx, command.user_id, respond, async (caller) => carbonMessage(await caller.carbon.status()));
  });

  app.action<BlockAction>(carbonRaiseRequestAction, async ({ ack, body, client, respond }) => {
    await ack();
    const identity = await ctx.identity.resolve(body.user.id);
    if (identity.kind === 'unknown') {
      await respond({ response_type: 'ephemeral', replace_original: false, text: identity.message });
      return;
    }
    const roles = identity.user.roles;
    const officer = roles.includes('esg') || roles.includes('admin');
    const metadata: RaiseMetadata = { responseUrl: body.response_url ?? null };
    await client.views.open({
      trigger_id: body.trigger_id,
      view: raiseModal({
        canRaiseTeam: identity.user.teamId !== null && (officer || roles.includes('lead')),
        canRaiseOrg: officer,
        privateMetadata: JSON.stringify(metadata),
      }),
    });
  });

  app.view<ViewSubmitAction>(carbonRaiseCallbackId, async ({ ack, body, client }) => {
    const form = parseRaiseForm(body.view.state.values);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    const { responseUrl } = parseMetadata(body.view.private_metadata);
    const tell = async (text: string) => {
      if (responseUrl !== null) {
        const response = await fetch(responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
          signal: AbortSignal.timeout(10_000),
        });
        if (response.ok) return;
      }
      await client.chat.postMessage({ channel: body.user.id, text });
    };
    const identity = await ctx.identity.resolve(body.user.id);
    if (identity.kind === 'unknown') return tell(identity.message);
    try {
      const caller = await ctx.callerFor(identity.user);
      const { raiseId } = await caller.carbon.requestRaise({
        scope: form.scope,
        grams: form.grams,
        reason: form.reason,
      });
      await tell(
        `Asked to raise ${form.scope === 'user' ? 'your' : form.scope === 'team' ? 'your team’s' : 'the org’s'} carbon cap by ${grams(form.grams)} (raise ${raiseId}). ESG officers decide; you will hear back here.`,
      );
    } catch (error) {
      await tell(`The raise was not filed: ${refusalText(error)}`);
    }
  });
}
