import { stringifyJson, ValidationError } from '@tokenwise/core';
import { userInfo } from 'node:os';
import { loadConfig } from '../config';
import { runRemoteCommand } from '../control/control-client';
import { readRunInfo } from '../run-file';
import { openServices } from '../services';
import { adminCommandSpecs, type CommandOptions, type CommandOutput } from './admin/index';

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
  const spec = adminCommandSpecs[name];
  if (spec === undefined) throw new Error(`no admin command ${name}`);
  const run = await readRunInfo(config.dataDir);
  if (spec.needsRunningPlatform === true && run?.control === undefined)
    throw new ValidationError(
      `tokenwise ${name} works only while the platform runs (npm start): none serves the data dir ${config.dataDir}. Start it with \`npm start\` in this directory (or set TOKENWISE_DATA_DIR to its data dir), then run this again.`,
    );
  let output: CommandOutput;
  // A command that needs the platform's process runs there even when both could reach a PostgreSQL server.
  if (run?.control !== undefined && (config.databaseUrl === undefined || spec.needsRunningPlatform === true)) {
    output = await runRemoteCommand(run.control, name, options, actorName());
  } else {
    const services = await openServices(config);
    try {
      output = await spec.run(services, options, actorName());
    } finally {
      await services.close();
    }
  }
  process.stdout.write(options.json === true ? `${stringifyJson(output.data)}\n` : `${output.text}\n`);
  return output.exitCode ?? 0;
}
