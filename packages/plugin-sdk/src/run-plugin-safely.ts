import { type PluginContext } from './context';
import { type PluginDefinition } from './define-plugin';
import { type ScoreInput } from './score-input';
import { type ScoreResult, validateScoreResult } from './score-result';
import { sdkIncompatibility } from './version';

/** Why a plugin run produced no result: it threw, hung, returned garbage, or was handed a bad config. */
export type PluginErrorKind = 'threw' | 'timeout' | 'invalid_result' | 'invalid_config' | 'incompatible_sdk';

export interface PluginErrorResult {
  readonly status: 'error';
  readonly error: { readonly kind: PluginErrorKind; readonly message: string };
}

/** A plugin run's outcome: its validated result, or an error the caller records and leaves out of the aggregate. */
export type PluginRunOutcome = ScoreResult | PluginErrorResult;

export interface RunPluginOptions {
  readonly timeoutMs: number;
}

export const errorMessageCharsMax = 2_000;
export const runTimeoutMsMax = 15 * 60 * 1000;

/**
 * Runs `plugin.score` so that nothing it does can crash the caller: the config is re-validated, the
 * call is bounded by `timeoutMs` (the context's signal aborts then, cancelling its LLM and fetch
 * calls), a throw or rejection becomes `{ status: 'error' }`, and the result is validated.
 */
export async function runPluginSafely<TConfig>(
  plugin: PluginDefinition<TConfig>,
  input: ScoreInput<unknown>,
  ctx: PluginContext,
  options: RunPluginOptions,
): Promise<PluginRunOutcome> {
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1 || options.timeoutMs > runTimeoutMsMax) {
    throw new RangeError(`timeoutMs must be an integer in 1..${runTimeoutMsMax}, got ${options.timeoutMs}.`);
  }
  const incompatible = sdkIncompatibility(plugin.sdkVersion);
  if (incompatible !== undefined) return failure('incompatible_sdk', `Plugin "${plugin.id}" ${incompatible}.`);
  const config = plugin.configSchema.safeParse(input.config);
  if (!config.success) {
    const issues = config.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    return failure('invalid_config', `Invalid config of plugin "${plugin.id}": ${issues.join('; ')}.`);
  }
  const outcome = await scoreWithTimeout(plugin, { ...input, config: config.data }, ctx, options.timeoutMs);
  if (outcome.status === 'error') {
    ctx.logger.warn('scoring plugin failed', {
      pluginId: plugin.id,
      pluginVersion: plugin.version,
      requestId: input.requestId,
      kind: outcome.error.kind,
      error: outcome.error.message,
    });
  }
  return outcome;
}

async function scoreWithTimeout<TConfig>(
  plugin: PluginDefinition<TConfig>,
  input: ScoreInput<TConfig>,
  ctx: PluginContext,
  timeoutMs: number,
): Promise<PluginRunOutcome> {
  const controller = new AbortController();
  const runCtx = boundContext(ctx, AbortSignal.any([ctx.signal, controller.signal]));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<PluginRunOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve(failure('timeout', `Plugin "${plugin.id}" did not answer within ${timeoutMs} ms.`)),
      timeoutMs,
    );
  });
  const scored = invokeScore(plugin, input, runCtx);
  try {
    return await Promise.race([scored, timedOut]);
  } finally {
    clearTimeout(timer);
    // Cancels whatever the plugin still has in flight after a timeout; harmless after a result.
    controller.abort(new Error(`Plugin "${plugin.id}" run is over.`));
  }
}

async function invokeScore<TConfig>(
  plugin: PluginDefinition<TConfig>,
  input: ScoreInput<TConfig>,
  ctx: PluginContext,
): Promise<PluginRunOutcome> {
  let result: unknown;
  try {
    // Called inside try: a synchronous throw from a non-async score is caught as well.
    result = await plugin.score(input, ctx);
  } catch (error) {
    return failure('threw', `Plugin "${plugin.id}" threw: ${describeError(error)}`);
  }
  try {
    return validateScoreResult(result);
  } catch (error) {
    return failure('invalid_result', `Plugin "${plugin.id}" returned an invalid result: ${describeError(error)}`);
  }
}

/** The caller's context with every I/O path also bound to the run's signal. */
function boundContext(ctx: PluginContext, signal: AbortSignal): PluginContext {
  return {
    ...ctx,
    signal,
    llm: {
      chat: (request) =>
        ctx.llm.chat({ ...request, signal: request.signal ? AbortSignal.any([request.signal, signal]) : signal }),
    },
    fetch: (resource, init) =>
      ctx.fetch(resource, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
  };
}

function describeError(error: unknown): string {
  let text: string;
  try {
    text =
      error instanceof Error
        ? `${error.name}: ${error.message}`
        : typeof error === 'string'
          ? error
          : (JSON.stringify(error) ?? String(error));
  } catch {
    text = 'an unprintable value';
  }
  return text.length > errorMessageCharsMax ? `${text.slice(0, errorMessageCharsMax)}…` : text;
}

function failure(kind: PluginErrorKind, message: string): PluginErrorResult {
  return { status: 'error', error: { kind, message: message.slice(0, errorMessageCharsMax + 200) } };
}
