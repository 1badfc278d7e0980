import { isDomainError } from '@tokenwise/core';
import { ProvisionError } from '@tokenwise/devtools';
import { UsageError, usageExitCode } from './usage-error';

/** Says what went wrong on stderr and returns the exit code: 2 for a usage error (with `usage`), else 1. */
export function reportError(error: unknown, usage = ''): number {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    process.stderr.write(`tokenwise: ${message}\n\n${usage}\n`);
    return usageExitCode;
  }
  if (isDomainError(error) || error instanceof ProvisionError) {
    process.stderr.write(`tokenwise: ${message}\n`);
    return 1;
  }
  process.stderr.write(`tokenwise: unexpected error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
  return 1;
}
