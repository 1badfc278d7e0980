import { stringifyJson } from '@tokenwise/core';
import { userInfo } from 'node:os';
import { loadConfig } from '../config';
import { runRemoteCommand } from '../control/control-client';
import { readRunInfo } from '../run-file';
import { openServices } from '../services';
import { adminCommands, type CommandOptions, type CommandOutput } from './admin/index';

function actorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/**
 * Runs a database command where the data is: in the running platform when one serves this data
 * dir (PGlite is single-process), else against the database directly.
 */
export async function runAdminCommand(name: string, options: CommandOptions & { json?: boolean }): Promise<number> {
  const config = loadConfig();
  const command = adminCommands[name];
  if (command === undefined) throw new Error(`no admin command ${name}`);
  const run = await readRunInfo(config.dataDir);
  let output: CommandOutput;
  if (run?.control !== undefined && config.databaseUrl === undefined) {
    output = await runRemoteCommand(run.control, name, options, actorName());
  } else {
    const services = await openServices(config);
    try {
      output = await command(services, options, actorName());
    } finally {
      await services.close();
    }
  }
  process.stdout.write(options.json === true ? `${stringifyJson(output.data)}\n` : `${output.text}\n`);
  return output.exitCode ?? 0;
}
