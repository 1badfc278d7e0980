import { currencies, ValidationError } from '@tokenwise/core';
import type { OptionSpec } from '../../command-spec';
import { UsageError } from '../../usage-error';
import type { CommandOptions } from './admin-command';

/** A required text option, trimmed; missing or blank is a usage error ("--org is required."). */
export function text(options: CommandOptions, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required.`);
  return value.trim();
}

/** An optional text option, trimmed; blank counts as not given. */
export function optionalText(options: CommandOptions, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A whole number option within bounds, or undefined when not given. */
export function optionalCount(options: CommandOptions, name: string, max: number): number | undefined {
  const value = optionalText(options, name);
  if (value === undefined) return undefined;
  const count = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(count >= 1 && count <= max))
    throw new ValidationError(`--${name} must be a whole number from 1 to ${max}, got "${value}".`);
  return count;
}

/** A comma-separated list option such as `--models a,b`, blanks dropped; undefined when not given. */
export function list(options: CommandOptions, name: string): string[] | undefined {
  const value = optionalText(options, name);
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
}

/** A decimal number option such as 250 or 1.15 (required). */
export function decimal(options: CommandOptions, name: string): number {
  const value = text(options, name);
  if (!/^[0-9]{1,6}(\.[0-9]{1,6})?$/.test(value))
    throw new ValidationError(`--${name} must be a decimal number such as 250 or 1.15, got "${value}".`);
  return Number(value);
}

/** `--currency`, for commands that default to the innovation currency. */
export const currencyOption: OptionSpec = {
  name: 'currency',
  value: 'code',
  description: `the currency: ${currencies.map((currency) => currency.code).join(', ')} (default innovation)`,
};

/** `--file`, a JSON file the command reads; relative paths are taken from the CLI's working directory. */
export function fileOption(what: string): OptionSpec {
  return { name: 'file', value: 'path', required: true, description: `the ${what} as a JSON file` };
}
