import { type Clock, type LogFields, type PluginContext, createSecrets } from '../context';
import { type FetchFn } from '../fetch-with-timeout';
import { type LlmClient } from '../llm-client';
import { scriptedLlm } from './scripted-llm';

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

export interface TestContextOptions {
  /** Defaults to an LLM with nothing scripted: any call fails, saying so. */
  readonly llm?: LlmClient;
  readonly secrets?: Readonly<Record<string, string>>;
  /** A fixed time, or a function for a moving one. Defaults to 2025-01-01T00:00:00Z. */
  readonly now?: Date | (() => Date);
  /** Defaults to a fetch that fails: a plugin test should not reach the network unless it says so. */
  readonly fetch?: FetchFn;
  readonly signal?: AbortSignal;
}

/** A context for testing a plugin alone, whose `logs` keep every log entry for assertions. */
export interface TestContext extends PluginContext {
  readonly logs: LogEntry[];
}

export const testNowDefault = new Date('2025-01-01T00:00:00Z');

/** Builds a PluginContext from fakes: scripted LLM, in-memory secrets, fixed clock, recorded logs. */
export function createTestContext(options: TestContextOptions = {}): TestContext {
  const logs: LogEntry[] = [];
  const log =
    (level: LogEntry['level']) =>
    (message: string, fields: LogFields = {}) => {
      logs.push({ level, message, fields });
    };
  const now = options.now ?? testNowDefault;
  const clock: Clock = { now: () => (typeof now === 'function' ? now() : new Date(now.getTime())) };
  const noFetch: FetchFn = (input) =>
    Promise.reject(new Error(`createTestContext: no fetch was given, but the plugin fetched ${String(input)}.`));
  return {
    logs,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    llm: options.llm ?? scriptedLlm([]),
    fetch: options.fetch ?? noFetch,
    secrets: createSecrets(options.secrets ?? {}, 'the test context'),
    clock,
    signal: options.signal ?? new AbortController().signal,
  };
}
