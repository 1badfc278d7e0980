import type { z } from 'zod';
import { ValidationError } from './errors';

/** Parses input with a zod schema; on failure throws a ValidationError naming every bad field and what it must be. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`);
    throw new ValidationError(`Invalid ${what}: ${issues.join('; ')}.`, { issues });
  }
  return parsed.data;
}
