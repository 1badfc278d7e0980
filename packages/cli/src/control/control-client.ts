import { parseJson, stringifyJson, ValidationError } from '@tokenwise/core';
import type { CommandOptions, CommandOutput } from '../commands/admin/index';
import { UsageError } from '../usage-error';

/** Runs an admin command inside the running platform. */
export async function runRemoteCommand(
  control: { url: string; token: string },
  command: string,
  options: CommandOptions,
  actor: string,
): Promise<CommandOutput> {
  const response = await fetch(`${control.url}/v1/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
    body: stringifyJson({ command, options, actor }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = parseJson(await response.text()) as CommandOutput & { error?: { code: string; message: string } };
  if (response.ok) return body;
  const message = body.error?.message ?? `The platform answered ${response.status}.`;
  if (response.status === 400) throw new UsageError(message);
  throw new ValidationError(message, { code: body.error?.code });
}
