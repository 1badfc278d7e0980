import type { RespondFn } from '@slack/bolt';
import type { ApiUser } from '@tokenwise/api';
import type { ApiCaller, SlackContext } from '../context';

/** What people read when the API refuses: its message (domain errors are written for people), never a stack. */
export function refusalText(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'INTERNAL_SERVER_ERROR') return 'Something went wrong on the Tokenwise side; try again in a minute.';
  return message;
}

/**
 * Runs `work` as the org user linked to `slackUserId`, answering through `respond` (ephemeral):
 * an unknown member is told whom to ask; a refusal or failure is told in words and logged.
 */
export async function asLinkedUser(
  ctx: SlackContext,
  slackUserId: string,
  respond: RespondFn,
  work: (caller: ApiCaller, user: ApiUser) => Promise<Parameters<RespondFn>[0]>,
): Promise<void> {
  let answer: Parameters<RespondFn>[0];
  try {
    const identity = await ctx.identity.resolve(slackUserId);
    if (identity.kind === 'unknown') answer = { text: identity.message };
    else answer = await work(await ctx.callerFor(identity.user), identity.user);
  } catch (error) {
    ctx.log(`slack: ${slackUserId}'s request failed: ${error instanceof Error ? error.message : String(error)}`);
    answer = { text: `Tokenwise could not answer: ${refusalText(error)}` };
  }
  const message = typeof answer === 'string' ? { text: answer } : answer;
  await respond({ response_type: 'ephemeral', replace_original: false, ...message });
}
