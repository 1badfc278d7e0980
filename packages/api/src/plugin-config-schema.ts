import { z } from 'zod';

/** A plugin's config schema as JSON Schema, or why it has none: never a crash for an odd schema. */
export type ConfigJsonSchema =
  | { status: 'complete'; jsonSchema: Record<string, unknown> }
  | { status: 'partial'; jsonSchema: Record<string, unknown>; note: string }
  | { status: 'unavailable'; jsonSchema: null; note: string };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The JSON Schema of what a lead writes (zod's input side, so defaulted fields are optional).
 * Parts JSON Schema cannot say (z.custom, refinements of exotic types) make it `partial`: those
 * parts accept anything here and are still checked by the plugin's zod schema on write and run.
 */
export function configJsonSchema(schema: unknown): ConfigJsonSchema {
  // Structural check: an npm plugin may bring zod 3, whose schemas z.toJSONSchema cannot read.
  if (typeof schema !== 'object' || schema === null || !('_zod' in schema)) {
    return {
      status: 'unavailable',
      jsonSchema: null,
      note: 'the config schema is not a zod v4 schema; setTeamConfig still validates configs with it',
    };
  }
  const zodSchema = schema as z.ZodType;
  try {
    return {
      status: 'complete',
      jsonSchema: z.toJSONSchema(zodSchema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>,
    };
  } catch (strictError) {
    try {
      const jsonSchema = z.toJSONSchema(zodSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      return {
        status: 'partial',
        jsonSchema,
        note: `parts of the schema have no JSON Schema form and accept anything here (${messageOf(strictError)}); setTeamConfig still validates them`,
      };
    } catch (error) {
      return {
        status: 'unavailable',
        jsonSchema: null,
        note: `the config schema has no JSON Schema form (${messageOf(error)}); setTeamConfig still validates configs with it`,
      };
    }
  }
}
