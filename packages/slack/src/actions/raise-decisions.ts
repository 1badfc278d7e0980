import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { SlackContext } from '../context';
import { refusalText } from '../commands/linked-user';
import { raiseApproveActionId, raiseDenyActionId } from '../delivery/raise-blocks';
import { refreshRaiseCopies, type RaiseCopyDeps } from '../delivery/raise-copies';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function tell(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}

/**
 * Approve / Deny on a raise request: acked at once, decided through the API's
 * `carbon.decideRaise` as the clicking user (so only ESG officers may, and the raise workflow
 * sees the decision through its outbox row), then every officer's copy shows who decided.
 * A refusal or a raise decided first is told to the clicker alone; the copies keep the first decision.
 */
export function registerRaiseDecisions(app: App, ctx: SlackContext, copies: RaiseCopyDeps): void {
  const decide = (decision: 'approve' | 'deny') =>
    async function raiseDecision({
      ack,
      body,
      action,
      respond,
    }: {
      ack: () => Promise<void>;
      body: BlockButtonAction;
      action: BlockButtonAction['actions'][number];
      respond: RespondFn;
    }) {
      await ack();
      const raiseId = action.value ?? '';
      if (!uuidPattern.test(raiseId)) {
        await tell(respond, 'This button names no carbon raise; ask for a new message.');
        return;
      }
      let decided = false;
      try {
        const identity = await ctx.identity.resolve(body.user.id);
        if (identity.kind === 'unknown') {
          await tell(respond, identity.message);
          return;
        }
        const caller = await ctx.callerFor(identity.user);
        await caller.carbon.decideRaise({ raiseId, decision });
        decided = true;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== 'FORBIDDEN' && code !== 'CONFLICT' && code !== 'NOT_FOUND' && code !== 'BAD_REQUEST')
          ctx.log(`slack: deciding raise ${raiseId} failed: ${error instanceof Error ? error.message : String(error)}`);
        await tell(
          respond,
          code === 'FORBIDDEN'
            ? `Only ESG officers decide carbon raises, so this click changed nothing. (${refusalText(error)})`
            : refusalText(error),
        );
        // A conflict means someone decided first: make sure every copy shows it.
        if (code !== 'CONFLICT') return;
      }
      await refreshRaiseCopies(copies, raiseId);
      if (decided) ctx.log(`slack: raise ${raiseId} ${decision === 'approve' ? 'approved' : 'denied'} from Slack`);
    };
  app.action<BlockButtonAction>(raiseApproveActionId, decide('approve'));
  app.action<BlockButtonAction>(raiseDenyActionId, decide('deny'));
}
