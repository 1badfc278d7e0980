import { isDomainError } from '@tokenwise/core';
import { parseArgs } from 'node:util';
import { runDev } from './commands/dev';
import { runDoctor } from './commands/doctor';
import { runMigrate } from './commands/migrate';
import { runProvision } from './commands/provision';
import { ProvisionError } from './local/provision';
import { UsageError } from './usage-error';

export const usage = `Usage: tokenwise <command> [options]

Commands:
  dev                  run the platform on this machine (what \`npm start\` runs)
  migrate              apply pending database migrations
  doctor               report what is installed and running
  provision            install the pinned Temporal CLI (and, with --for-tests, check PostgreSQL)

Options:
  -h, --help           show this help
  --json               (doctor) print the report as JSON
  --for-tests          (provision) also provision what \`npm test\` needs

Configuration comes from the environment: TOKENWISE_DATA_DIR (default .tokenwise),
DATABASE_URL (a PostgreSQL server; PGlite under the data dir when unset), TEMPORAL_ADDRESS
(an existing Temporal server; a local dev server when unset), TEMPORAL_NAMESPACE, TEMPORAL_UI_PORT.`;

type Command = (options: { json: boolean; forTests: boolean }) => Promise<number>;

const commands: Record<string, Command> = {
  dev: () => runDev(),
  migrate: () => runMigrate(),
  doctor: (options) => runDoctor(options),
  provision: (options) => runProvision(options),
};

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, 'for-tests': { type: 'boolean' } },
    });
    const [name, ...extra] = positionals;
    if (values.help || name === 'help') {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (name === undefined) throw new UsageError('No command given.');
    const command = commands[name];
    if (command === undefined) throw new UsageError(`Unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}.`);
    if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}" after "${name}".`);
    return await command({ json: values.json ?? false, forTests: values['for-tests'] ?? false });
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tokenwise: ${message}\n\n${usage}\n`);
    return 2;
  }
  if (isDomainError(error) || error instanceof ProvisionError) {
    process.stderr.write(`tokenwise: ${message}\n`);
    return 1;
  }
  process.stderr.write(`tokenwise: unexpected error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
  return 1;
}
