import type { CommandOptions, CommandSpec } from '../../command-spec';
import type { Services } from '../../services';

export type { CommandOptions } from '../../command-spec';

export interface CommandOutput {
  text: string;
  data: unknown;
  exitCode?: number;
}

/** A command that needs the database and ledger; it runs in the platform process or in the CLI. */
export type AdminCommand = (services: Services, options: CommandOptions, actor: string) => Promise<CommandOutput>;

/** An admin command with its help and options; `run` is what the registry and the control server call. */
export interface AdminCommandSpec extends CommandSpec {
  run: AdminCommand;
  /** It needs what only the running platform process holds (the local GitHub stand-in): refused when none runs. */
  needsRunningPlatform?: boolean;
}

/** One command group's commands, keyed by their full name (`keys create`). */
export type AdminCommandSpecs = Record<string, AdminCommandSpec>;
