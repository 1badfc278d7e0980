/** What a command's options hold once parsed: `--org acme` is `{ org: 'acme' }`, a flag is `true`. */
export type CommandOptions = Record<string, string | boolean | undefined>;

/** One option of a command, as `tokenwise <command> --help` shows it and the parser accepts it. */
export interface OptionSpec {
  /** The long flag without its dashes (`org` is `--org`); also the key in {@link CommandOptions}. */
  name: string;
  /** The value's placeholder in help (`slug` shows `--org <slug>`); absent for a flag such as `--cascade`. */
  value?: string;
  /** Refused before the command runs when missing or blank, as "--org is required.". */
  required?: boolean;
  description: string;
}

/** A command as the CLI knows it: a one-line summary and its own options, nothing shared. */
export interface CommandSpec {
  summary: string;
  options: readonly OptionSpec[];
}
