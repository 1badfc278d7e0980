/** Exit code of `tokenwise slack` while the Slack bot is not built: a supervisor must not take it for success. */
export const slackNotBuiltExitCode = 1;

/** `tokenwise slack`: the Slack bot is a later issue; say so plainly instead of pretending to run. */
export function runSlackCommand(): Promise<number> {
  process.stderr.write(
    'tokenwise: the Slack bot is not part of this build yet, so there is nothing to run. ' +
      'Balances, usage and scores are available through the tRPC API (tokenwise api) and the CLI (tokenwise balance, tokenwise usage).\n',
  );
  return Promise.resolve(slackNotBuiltExitCode);
}
