import { resolve } from 'node:path';
import { runCli, type CliSpec } from './cli-program';
import type { CommandOptions } from './command-spec';
import { adminCommandSpecs, adminGroups } from './commands/admin/index';
import { platformCommandSpecs } from './commands/platform-commands';
import { runAdminCommand } from './commands/run-admin-command';

/** Every command `tokenwise` knows, with its help: what runs the platform first, then the admin commands. */
const cli: CliSpec = {
  commands: { ...platformCommandSpecs, ...adminCommandSpecs },
  groups: adminGroups,
  description:
    'Tokenwise: meter, score and settle inference against token wallets. Run `tokenwise <command> --help` for the options of a command.',
  epilogue: `Configuration comes from tokenwise.config.json (or the file named by TOKENWISE_CONFIG) under
environment overrides: TOKENWISE_DATA_DIR (default .tokenwise),
DATABASE_URL (a PostgreSQL server; PGlite under the data dir when unset), TEMPORAL_ADDRESS
(an existing Temporal server; a local dev server when unset), TEMPORAL_NAMESPACE, TEMPORAL_UI_PORT,
TOKENWISE_GATEWAY_PORT (default 4000), TOKENWISE_GATEWAY_HOST and TOKENWISE_API_HOST (default
127.0.0.1; 0.0.0.0 in a container), TOKENWISE_API_PORT (default the gateway port + 1),
TOKENWISE_GATEWAY_URL (where the worker reaches a gateway), VLLM_URL, TOKENWISE_CLUSTERS_FILE,
VLLM_PRIORITY_SCHEDULING, TOKENWISE_LEDGER_KEY and TOKENWISE_KEY_PEPPER (hex, 32+ bytes; else
kept under the data dir). gateway, worker and api need DATABASE_URL: PGlite serves one process.`,
};

/** Every command name `tokenwise <name>` runs, admin commands included (first word). */
export const commandNames: readonly string[] = [
  ...new Set(Object.keys(cli.commands).map((name) => name.split(' ')[0] as string)),
];

/** Runs one command with its parsed options: an admin command where the data is, else the platform command. */
async function runCommand(name: string, options: CommandOptions): Promise<number> {
  const platform = platformCommandSpecs[name];
  if (platform !== undefined) return platform.run(options);
  // The platform process may read the file, from another working directory.
  const file = options.file;
  return runAdminCommand(name, typeof file === 'string' ? { ...options, file: resolve(file) } : options);
}

/** Runs the CLI and returns the process exit code; never throws. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, cli, runCommand);
}
