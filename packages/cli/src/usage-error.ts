/** Bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code of bad command-line input, whoever finds it: the parser or a command. */
export const usageExitCode = 2;
