import { ConfigError } from '@tokenwise/core';
import { type FetchFn, withTimeout } from './fetch-with-timeout';
import { type LlmClient } from './llm-client';

/** Structured fields of a log entry: small, JSON-serialisable values. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface PluginLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Named secrets configured for a plugin (API tokens of the systems it reads evidence from). */
export interface PluginSecrets {
  /** The secret's value; throws a ConfigError naming the secret when it is not configured. */
  get(name: string): string;
}

/**
 * Who pays for a plugin's metered LLM calls: in settlement, the judge wallet of the org whose request
 * is scored; in a dry run, the wallet of the lead who asked for it.
 */
export type LlmPayer =
  | { readonly kind: 'judge'; readonly orgId: string }
  | { readonly kind: 'user'; readonly orgId: string; readonly userId: string };

export interface Clock {
  now(): Date;
}

/** What a plugin may use while scoring. Plugins do I/O only through this. */
export interface PluginContext {
  readonly logger: PluginLogger;
  /** Metered LLM client: calls go through the gateway, charged to the run's payer (the org's judge wallet in settlement). */
  readonly llm: LlmClient;
  /** fetch bounded by a timeout (and by `signal`). */
  readonly fetch: FetchFn;
  readonly secrets: PluginSecrets;
  readonly clock: Clock;
  /** Aborted when the plugin's time is up; pass it to long calls. */
  readonly signal: AbortSignal;
}

/** Secrets from a name -> value map; an unknown name is a configuration error that lists the configured names. */
export function createSecrets(values: Readonly<Record<string, string>>, owner = 'this plugin'): PluginSecrets {
  const map = new Map(Object.entries(values));
  return {
    get(name) {
      const value = map.get(name);
      if (value === undefined) {
        const known = [...map.keys()].sort();
        throw new ConfigError(
          `Secret "${name}" is not configured for ${owner}. Configured secrets: ${known.length === 0 ? 'none' : known.join(', ')}.`,
          { secret: name },
        );
      }
      return value;
    },
  };
}

/** Environment variables holding plugin secrets: `TOKENWISE_SECRET_<NAME>` is the secret `<NAME>`. */
export const secretEnvPrefix = 'TOKENWISE_SECRET_';

/** The named secrets the environment holds (`TOKENWISE_SECRET_GITHUB_TOKEN` is `GITHUB_TOKEN`); empty values are left out. */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(secretEnvPrefix) || value === undefined || value === '') continue;
    const secretName = name.slice(secretEnvPrefix.length);
    if (/^[A-Z][A-Z0-9_]{0,63}$/.test(secretName)) secrets[secretName] = value;
  }
  return secrets;
}

export const systemClock: Clock = { now: () => new Date() };

/** A logger writing one JSON line per entry (to stderr by default), with fixed fields such as the plugin id. */
export function createJsonLogger(
  base: LogFields = {},
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): PluginLogger {
  const log = (level: 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) =>
    write(JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...base, ...fields }, jsonSafe));
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export interface PluginContextOptions {
  readonly logger: PluginLogger;
  readonly llm: LlmClient;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly fetch?: FetchFn;
  readonly fetchTimeoutMs: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/** Wires a context for production (the settlement activity): timed fetch, named secrets, system clock. */
export function createPluginContext(options: PluginContextOptions): PluginContext {
  const signal = options.signal ?? new AbortController().signal;
  return {
    logger: options.logger,
    llm: options.llm,
    fetch: withTimeout(options.fetch ?? globalThis.fetch, options.fetchTimeoutMs, signal),
    secrets: createSecrets(options.secrets ?? {}),
    clock: options.clock ?? systemClock,
    signal,
  };
}
