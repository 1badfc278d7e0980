import { ConfigError } from '@tokenwise/core';
import { resolve } from 'node:path';
import { z } from 'zod';

/** Settings this stage of the platform reads; the full configuration file arrives with the API. */
const envSchema = z.object({
  TOKENWISE_DATA_DIR: z.string().min(1).default('.tokenwise'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).max(255).default('default'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65_535).default(8233),
});

export interface Config {
  dataDir: string;
  pgliteDir: string;
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalUiPort: number;
}

/** Reads and validates configuration from the environment; a bad value names the key and what is allowed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const dataDir = resolve(cwd, parsed.data.TOKENWISE_DATA_DIR);
  return {
    dataDir,
    pgliteDir: resolve(dataDir, 'pg'),
    databaseUrl: parsed.data.DATABASE_URL,
    temporalAddress: parsed.data.TEMPORAL_ADDRESS,
    temporalNamespace: parsed.data.TEMPORAL_NAMESPACE,
    temporalUiPort: parsed.data.TEMPORAL_UI_PORT,
  };
}
