import { ConfigError } from '@tokenwise/core';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

/** An interface to listen on: loopback by default; a container needs 0.0.0.0 (or ::). */
const hostSchema = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9.-]+|[0-9A-Fa-f:]+)$/,
    'must be an IP address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0',
  )
  .default('127.0.0.1');

/** Every setting, by its environment name: values from the config file are checked by the same rules. */
export const envSchema = z.object({
  TOKENWISE_DATA_DIR: z.string().min(1).default('.tokenwise'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TEMPORAL_NAMESPACE: z.string().min(1).max(255).default('default'),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65_535).default(8233),
  TOKENWISE_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  TOKENWISE_GATEWAY_HOST: hostSchema,
  TOKENWISE_GATEWAY_URL: z
    .string()
    .regex(/^https?:\/\/[^/]+$/, 'must be the base URL of a gateway without /v1, e.g. http://gateway:4000')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TOKENWISE_API_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  TOKENWISE_API_HOST: hostSchema,
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
    .regex(
      /^(?:[0-9a-fA-F]{64,}|[A-Za-z0-9+/]{43,}={0,2})$/,
      'must be at least 32 bytes as hex (64+ characters) or base64',
    )
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
  /** Gateway port (0 = any free port; under `dev` a busy port falls back to a free one). */
  gatewayPort: number;
  /** Interface the gateway listens on (default loopback; 0.0.0.0 in a container). */
  gatewayHost: string;
  /** Where the worker's scoring plugins reach a gateway (base URL, no /v1); the worker falls back to this machine's gateway port. */
  gatewayUrl: string | undefined;
  /** API port: TOKENWISE_API_PORT, else the gateway port + 1 (0 when the gateway's is 0). */
  apiPort: number;
  /** Interface the API listens on (default loopback; 0.0.0.0 in a container). */
  apiHost: string;
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

/**
 * The config file's keys and the environment variable each one stands for. Secrets
 * (TOKENWISE_LEDGER_KEY, TOKENWISE_KEY_PEPPER) are environment-only: a config file gets committed.
 */
export const configFileKeys = {
  dataDir: 'TOKENWISE_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  'temporal.address': 'TEMPORAL_ADDRESS',
  'temporal.namespace': 'TEMPORAL_NAMESPACE',
  'temporal.uiPort': 'TEMPORAL_UI_PORT',
  'gateway.port': 'TOKENWISE_GATEWAY_PORT',
  'gateway.host': 'TOKENWISE_GATEWAY_HOST',
  'gateway.url': 'TOKENWISE_GATEWAY_URL',
  'api.port': 'TOKENWISE_API_PORT',
  'api.host': 'TOKENWISE_API_HOST',
  'vllm.url': 'VLLM_URL',
  'vllm.priorityScheduling': 'VLLM_PRIORITY_SCHEDULING',
  'vllm.clustersFile': 'TOKENWISE_CLUSTERS_FILE',
} as const satisfies Record<string, keyof typeof envSchema.shape>;
/** Settings that are file paths: from the file, they are relative to the file's directory. */
const pathKeys = new Set<string>(['TOKENWISE_DATA_DIR', 'TOKENWISE_CLUSTERS_FILE']);
export const configFileName = 'tokenwise.config.json';
/** A config file is a few settings; anything larger is the wrong file. */
const configFileBytesMax = 64 * 1024;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  dataDir: scalar.optional(),
  databaseUrl: scalar.optional(),
  temporal: z
    .strictObject({ address: scalar.optional(), namespace: scalar.optional(), uiPort: scalar.optional() })
    .optional(),
  gateway: z.strictObject({ port: scalar.optional(), host: scalar.optional(), url: scalar.optional() }).optional(),
  api: z.strictObject({ port: scalar.optional(), host: scalar.optional() }).optional(),
  vllm: z
    .strictObject({ url: scalar.optional(), priorityScheduling: scalar.optional(), clustersFile: scalar.optional() })
    .optional(),
});

interface Source {
  values: Record<string, string | undefined>;
  /** Where each value came from, to name it in an error: "TEMPORAL_UI_PORT" or "temporal.uiPort in /x/tokenwise.config.json". */
  origins: Record<string, string>;
}

/** The config file named by TOKENWISE_CONFIG, else ./tokenwise.config.json when present, else none. */
function configFilePath(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const named = env.TOKENWISE_CONFIG;
  if (named !== undefined && named !== '') {
    const path = resolve(cwd, named);
    if (!existsSync(path))
      throw new ConfigError(
        `Invalid configuration:\n  TOKENWISE_CONFIG: ${path} does not exist (unset it to use ./${configFileName} when present)`,
      );
    return path;
  }
  const fallback = resolve(cwd, configFileName);
  return existsSync(fallback) ? fallback : undefined;
}

function readConfigFile(path: string): Record<string, string | undefined> {
  let body: unknown;
  try {
    const size = statSync(path).size;
    if (size > configFileBytesMax) throw new Error(`it has ${size} bytes; at most ${configFileBytesMax}`);
    body = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Invalid configuration file ${path}: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const unknownKeys = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}; ` : '';
      return `${issue.path.join('.') || '(top level)'}: ${unknownKeys}allowed keys are ${Object.keys(configFileKeys).join(', ')}, each a string, number, boolean or null`;
    });
    throw new ConfigError(`Invalid configuration file ${path}:\n  ${problems.join('\n  ')}`);
  }
  const values: Record<string, string | undefined> = {};
  for (const [key, name] of Object.entries(configFileKeys)) {
    const value = key
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], parsed.data);
    if (value === undefined || value === null) continue;
    values[name] = pathKeys.has(name) && typeof value === 'string' ? resolve(dirname(path), value) : String(value);
  }
  return values;
}

/** The file's values under the environment's: a variable that is set (even empty) wins. */
function mergeSources(env: NodeJS.ProcessEnv, cwd: string): Source {
  const path = configFilePath(env, cwd);
  const fromFile = path === undefined ? {} : readConfigFile(path);
  const fileKeyOf = Object.fromEntries(Object.entries(configFileKeys).map(([key, name]) => [name, key]));
  const values: Record<string, string | undefined> = {};
  const origins: Record<string, string> = {};
  for (const name of Object.keys(envSchema.shape)) {
    if (env[name] !== undefined) {
      values[name] = env[name];
      origins[name] = name;
    } else if (fromFile[name] !== undefined) {
      values[name] = fromFile[name];
      origins[name] = `${fileKeyOf[name]} in ${path} (${name})`;
    }
  }
  return { values, origins };
}

/**
 * Reads and validates configuration: the config file (TOKENWISE_CONFIG or ./tokenwise.config.json)
 * under environment overrides. A bad value names its key, where it came from, and what is allowed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const source = mergeSources(env, cwd);
  const parsed = envSchema.safeParse(source.values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      return `${source.origins[name] ?? name}: ${issue.message}`;
    });
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
    gatewayHost: parsed.data.TOKENWISE_GATEWAY_HOST,
    gatewayUrl: parsed.data.TOKENWISE_GATEWAY_URL,
    apiPort:
      parsed.data.TOKENWISE_API_PORT ??
      (parsed.data.TOKENWISE_GATEWAY_PORT === 0 ? 0 : parsed.data.TOKENWISE_GATEWAY_PORT + 1),
    apiHost: parsed.data.TOKENWISE_API_HOST,
    vllmUrl: parsed.data.VLLM_URL,
    vllmPriorityScheduling: parsed.data.VLLM_PRIORITY_SCHEDULING,
    clustersFile:
      parsed.data.TOKENWISE_CLUSTERS_FILE === undefined ? undefined : resolve(cwd, parsed.data.TOKENWISE_CLUSTERS_FILE),
    ledgerKey: decodeKey(parsed.data.TOKENWISE_LEDGER_KEY),
    ledgerKeyPath: resolve(dataDir, 'ledger.key'),
    ledgerCheckpointPath: resolve(dataDir, 'ledger-checkpoint.json'),
    keyPepper:
      parsed.data.TOKENWISE_KEY_PEPPER === undefined ? undefined : Buffer.from(parsed.data.TOKENWISE_KEY_PEPPER, 'hex'),
    keyPepperPath: resolve(dataDir, 'key-pepper'),
  };
}

function decodeKey(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  const key =
    /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length < 32)
    throw new ConfigError('Invalid configuration:\n  TOKENWISE_LEDGER_KEY: must decode to at least 32 bytes');
  return key;
}
