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
  TOKENWISE_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  VLLM_URL: z
    .string()
    .regex(/^https?:\/\/[^/]+$/, 'must be the base URL of a vLLM server without /v1, e.g. http://gpu-1:8000')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TOKENWISE_CLUSTERS_FILE: z.string().min(1).optional(),
  VLLM_PRIORITY_SCHEDULING: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  TOKENWISE_LEDGER_KEY: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64,}|[A-Za-z0-9+/]{43,}={0,2})$/, 'must be at least 32 bytes as hex (64+ characters) or base64')
    .optional(),
  TOKENWISE_KEY_PEPPER: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{2}){32,}$/, 'must be at least 32 bytes as hex (64+ characters, an even count)')
    .optional(),
});

export interface Config {
  dataDir: string;
  pgliteDir: string;
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalUiPort: number;
  /** Gateway port (0 = any free port; a busy port falls back to a free one). */
  gatewayPort: number;
  /** A real vLLM server; without it `npm start` runs a simulated cluster. */
  vllmUrl: string | undefined;
  vllmPriorityScheduling: boolean;
  /** JSON file of vLLM clusters (replicas, concurrency, region, grid intensity); wins over VLLM_URL. */
  clustersFile: string | undefined;
  /** The journal's HMAC key, when given in the environment; else it lives in `<dataDir>/ledger.key`. */
  ledgerKey: Buffer | undefined;
  ledgerKeyPath: string;
  ledgerCheckpointPath: string;
  /** The API keys' HMAC pepper, when given in the environment; else it lives in `<dataDir>/key-pepper`. */
  keyPepper: Buffer | undefined;
  keyPepperPath: string;
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
    gatewayPort: parsed.data.TOKENWISE_GATEWAY_PORT,
    vllmUrl: parsed.data.VLLM_URL,
    vllmPriorityScheduling: parsed.data.VLLM_PRIORITY_SCHEDULING,
    clustersFile: parsed.data.TOKENWISE_CLUSTERS_FILE === undefined ? undefined : resolve(cwd, parsed.data.TOKENWISE_CLUSTERS_FILE),
    ledgerKey: decodeKey(parsed.data.TOKENWISE_LEDGER_KEY),
    ledgerKeyPath: resolve(dataDir, 'ledger.key'),
    ledgerCheckpointPath: resolve(dataDir, 'ledger-checkpoint.json'),
    keyPepper: parsed.data.TOKENWISE_KEY_PEPPER === undefined ? undefined : Buffer.from(parsed.data.TOKENWISE_KEY_PEPPER, 'hex'),
    keyPepperPath: resolve(dataDir, 'key-pepper'),
  };
}

function decodeKey(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  const key = /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length < 32) throw new ConfigError('Invalid configuration:\n  TOKENWISE_LEDGER_KEY: must decode to at least 32 bytes');
  return key;
}
