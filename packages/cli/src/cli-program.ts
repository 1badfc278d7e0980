import { Command, CommanderError, Help, Option, type Argument, type HelpConfiguration } from 'commander';
import type { CommandOptions, CommandSpec, OptionSpec } from './command-spec';
import { didYouMean } from './did-you-mean';
import { reportError } from './report-error';
import { UsageError, usageExitCode } from './usage-error';

/** Runs the command named `name` (`keys create`) with its own parsed options; resolves with the exit code. */
export type RunCommand = (name: string, options: CommandOptions) => Promise<number>;

/** Everything `tokenwise` knows, in the order its help lists it. */
export interface CliSpec {
  /** Every command by its full name (`keys create`); a name of two words belongs to the group of the first. */
  commands: Record<string, CommandSpec>;
  /** What each command group is for, as `tokenwise <group> --help` says. */
  groups: Record<string, string>;
  /** The top of `tokenwise --help`. */
  description: string;
  /** The end of `tokenwise --help`: configuration and environment. */
  epilogue: string;
}

/** An unknown option names at most this many of the commands it belongs to. */
const ownersShownMax = 5;

/**
 * Parses `argv` against `cli`, runs the one command it names through `run`, and returns the exit code:
 * the command's own, or 2 for bad input (with the help of the command it concerns on stderr), 0 for
 * help (on stdout). Never throws and never exits the process.
 */
export async function runCli(argv: readonly string[], cli: CliSpec, run: RunCommand): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(cli, run, (code) => (exitCode = code));
  try {
    if (argv.length === 0) throw new UsageError('No command given.');
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has written its message and the help already: only the exit code is left to say.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : usageExitCode;
    return reportError(error, program.helpInformation().trimEnd());
  }
}

/** The commander program for `cli`: a group command per leading word of a command of several words, a command per command. */
function buildProgram(cli: CliSpec, run: RunCommand, settle: (exitCode: number) => void): Command {
  const program = new Command('tokenwise')
    .description(cli.description)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    })
    .showHelpAfterError()
    .addHelpText('after', `\n${cli.epilogue}`);
  program.configureHelp(helpLayout(program));
  const owners = optionOwners(cli.commands);
  refuseUnknownCommands(program, [], owners);
  const groups = new Map<string, Command>();
  for (const [name, spec] of Object.entries(cli.commands)) {
    const words = name.split(' ');
    const last = words.pop() as string;
    // `carbon cap set`: the group `carbon`, its subgroup `cap`, the command `set`.
    let parent = program;
    for (let depth = 1; depth <= words.length; depth++) {
      const path = words.slice(0, depth);
      const key = path.join(' ');
      let group = groups.get(key);
      if (group === undefined) {
        const summary = cli.groups[key] ?? '';
        group = parent
          .command(path[depth - 1] as string)
          .summary(summary)
          .description(sentence(summary));
        refuseUnknownCommands(group, path, owners);
        groups.set(key, group);
      }
      parent = group;
    }
    addCommand(parent, last, name, spec, owners, run, settle);
  }
  return program;
}

/** One command with its own options only; it checks its required options before it runs, and settles the exit code. */
function addCommand(
  parent: Command,
  word: string,
  name: string,
  spec: CommandSpec,
  owners: ReadonlyMap<string, readonly string[]>,
  run: RunCommand,
  settle: (exitCode: number) => void,
): void {
  const command = parent.command(word).summary(spec.summary).description(sentence(spec.summary)).allowExcessArguments();
  const options = spec.options.map((optionSpec) => {
    const option = new Option(optionFlags(optionSpec), optionDescription(optionSpec));
    command.addOption(option);
    return { spec: optionSpec, key: option.attributeName() };
  });
  command.configureOutput({ outputError: (message, write) => write(parseErrorText(message, name, owners)) });
  command.action(async () => {
    try {
      // Checked here rather than by commander, so the message stays the one the CLI always gave.
      if (command.args.length > 0) throw new UsageError(`Unexpected argument "${command.args[0]}" after "${name}".`);
      const values: CommandOptions = {};
      for (const { spec: optionSpec, key } of options) {
        const value: unknown = command.getOptionValue(key);
        if (typeof value === 'string' || typeof value === 'boolean') values[optionSpec.name] = value;
      }
      const missing = spec.options.find((option) => option.required === true && !given(values[option.name]));
      if (missing !== undefined) throw new UsageError(`--${missing.name} is required.`);
      settle(await run(name, values));
    } catch (error) {
      // A usage error shows this command's help: its options, not every command's.
      settle(reportError(error, command.helpInformation().trimEnd()));
    }
  });
}

/** A summary as the first sentence of a command's own help. */
function sentence(summary: string): string {
  return summary === '' ? '' : `${summary.charAt(0).toUpperCase()}${summary.slice(1)}.`;
}

function given(value: string | boolean | undefined): boolean {
  return typeof value === 'string' ? value.trim() !== '' : value === true;
}

function optionFlags(option: OptionSpec): string {
  return option.value === undefined ? `--${option.name}` : `--${option.name} <${option.value}>`;
}

function optionDescription(option: OptionSpec): string {
  return option.required === true ? `${option.description} (required)` : option.description;
}

/** Which commands each option name belongs to, so a misplaced option can say where it goes. */
function optionOwners(commands: Record<string, CommandSpec>): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(commands))
    for (const option of spec.options) owners.set(option.name, [...(owners.get(option.name) ?? []), name]);
  return owners;
}

/** A command that is not there is refused with the nearest names, then the help that lists every command. */
function refuseUnknownCommands(
  parent: Command,
  path: readonly string[],
  owners: ReadonlyMap<string, readonly string[]>,
): void {
  const where = path.join(' ');
  parent.configureOutput({ outputError: (message, write) => write(parseErrorText(message, where, owners)) });
  parent.on('command:*', (operands: string[]) => {
    const [word = '', next] = operands;
    const known = parent.commands.map((command) => command.name());
    const suggestions = didYouMean(word, path.length === 0 ? [...known, 'help'] : known).map((suggestion) => {
      const group = parent.commands.find((command) => command.name() === suggestion);
      const full = [...path, suggestion];
      if (next !== undefined && group?.commands.some((command) => command.name() === next)) full.push(next);
      return `"${full.join(' ')}"`;
    });
    const guess = suggestions.length === 0 ? '' : ` Did you mean ${suggestions.join(' or ')}?`;
    parent.error(`Unknown command "${[...path, word].join(' ')}".${guess}`, { code: 'commander.unknownCommand' });
  });
}

/**
 * Commander's parse error in the CLI's words: "tokenwise: Unknown option '--slug' for "keys list": it
 * is an option of org create, team create.", naming the command and where an option belongs.
 */
function parseErrorText(message: string, where: string, owners: ReadonlyMap<string, readonly string[]>): string {
  const [first = '', ...rest] = message
    .trim()
    .replace(/^error: /, '')
    .split('\n');
  const suggestion = rest.join(' ').replace(/^\((.*)\)$/, '$1');
  let text = `${first.charAt(0).toUpperCase()}${first.slice(1)}`;
  const unknownOption = /^Unknown option '--([^'=]+)/.exec(text)?.[1];
  if (unknownOption !== undefined) {
    if (where !== '') text += ` for "${where}"`;
    const belongs = owners.get(unknownOption) ?? [];
    if (suggestion === '' && belongs.length > 0) {
      const shown = belongs.slice(0, ownersShownMax).join(', ');
      const more = belongs.length > ownersShownMax ? ` and ${belongs.length - ownersShownMax} more` : '';
      text += `: it is an option of ${shown}${more}`;
    }
  }
  if (!/[.?]$/.test(text)) text += '.';
  return `tokenwise: ${text}${suggestion === '' ? '' : ` ${suggestion}`}\n`;
}

/** `tokenwise --help` lists every command by its full name; a group's help lists its own. */
function helpLayout(program: Command): HelpConfiguration {
  return {
    visibleCommands(this: Help, command: Command): Command[] {
      const visible = Help.prototype.visibleCommands.call(this, command);
      if (command !== program) return visible;
      const leaves = (child: Command): Command[] =>
        child.commands.length > 0 ? child.commands.flatMap(leaves) : [child];
      return visible.flatMap(leaves);
    },
    subcommandTerm(command: Command): string {
      const path: string[] = [];
      for (let at: Command | null = command; at !== null && at !== program; at = at.parent) path.unshift(at.name());
      return [...path, ...command.registeredArguments.map(argumentTerm)].join(' ');
    },
  };
}

function argumentTerm(argument: Argument): string {
  const name = `${argument.name()}${argument.variadic ? '...' : ''}`;
  return argument.required ? `<${name}>` : `[${name}]`;
}
