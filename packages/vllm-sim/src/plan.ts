import { type ChoiceState as ChoiceStateType, ChoiceState, piecesSource, textSource, type TokenSource } from './choice';
import { renderChatTemplate } from './chat-template';
import { badRequest, modelNotFound, requestShapeError, validationError } from './errors';
import { sampleJsonForSchema } from './json-schema-sample';
import { type ResolvedModelOptions } from './model-config';
import {
  type ChatRequest,
  type CompletionRequest,
  type ResponseFormat,
  type StreamOptions,
  chatRequestSchema,
  completionRequestSchema,
  describeIssues,
} from './request-schemas';
import { createRng, fnv1a, mixHash } from './rng';
import { countTokens } from './tokenizer';
import { type Endpoint } from './wire';

/** Everything the engine and the wire need about one accepted generation request. */
export interface GenerationPlan {
  endpoint: Endpoint;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  priority: number;
  promptTokens: number;
  choices: ChoiceStateType[];
}

/** Completions default to 16 tokens (vLLM's CompletionRequest default), chat to the rest of the context. */
const completionMaxTokensDefault = 16;
const choicesPerRequestMax = 128;

const jsonObjectSchema = {
  type: 'object',
  properties: { answer: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
  required: ['answer', 'confidence'],
};

interface PromptInput {
  /** Text (or token ids) that seeds the generated answer. */
  key: string;
  tokens: number;
}

/** Validates a chat request as vLLM does and plans its generation; throws VllmHttpError on refusal. */
export function planChat(body: unknown, options: ResolvedModelOptions): GenerationPlan {
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) throw requestShapeError(describeIssues(parsed.error));
  const request = parsed.data;
  checkCommon(request, options);
  const rendered = renderChatTemplate(request.messages, { addGenerationPrompt: request.add_generation_prompt ?? true });
  const prompt: PromptInput = { key: rendered, tokens: countTokens(rendered) };
  const requested = request.max_completion_tokens ?? request.max_tokens ?? null;
  checkContext(prompt.tokens, requested, options);
  return finishPlan('chat', request, [prompt], requested ?? options.maxModelLen - prompt.tokens, options);
}

/** Validates a completion request as vLLM does and plans its generation. */
export function planCompletion(body: unknown, options: ResolvedModelOptions): GenerationPlan {
  const parsed = completionRequestSchema.safeParse(body);
  if (!parsed.success) throw requestShapeError(describeIssues(parsed.error));
  const request = parsed.data;
  const prompts = promptInputs(request.prompt);
  checkCommon(request, options);
  const requested = request.max_tokens === undefined ? completionMaxTokensDefault : request.max_tokens;
  let smallestRoom = Infinity;
  for (const prompt of prompts) {
    checkContext(prompt.tokens, requested, options);
    smallestRoom = Math.min(smallestRoom, options.maxModelLen - prompt.tokens);
  }
  return finishPlan('completion', request, prompts, requested ?? smallestRoom, options);
}

function promptInputs(prompt: CompletionRequest['prompt']): PromptInput[] {
  if (prompt === undefined || prompt === null || prompt === '' || (Array.isArray(prompt) && prompt.length === 0)) {
    throw requestShapeError('Either prompt or prompt_embeds must be provided and non-empty.');
  }
  if (typeof prompt === 'string') return [{ key: prompt, tokens: countTokens(prompt) }];
  if (prompt.every((item) => typeof item === 'number')) return [{ key: prompt.join(','), tokens: prompt.length }];
  return (prompt as Array<string | number[]>).map((item) =>
    typeof item === 'string' ? { key: item, tokens: countTokens(item) } : { key: item.join(','), tokens: item.length },
  );
}

function checkCommon(request: ChatRequest | CompletionRequest, options: ResolvedModelOptions): void {
  if (request.model !== undefined && request.model !== null && request.model !== options.model) {
    throw modelNotFound(request.model);
  }
  if (request.stream_options && !request.stream) {
    throw validationError('Stream options can only be defined when `stream=True`.', 'stream_options');
  }
  const format = request.response_format;
  if (format?.type === 'json_schema' && (format.json_schema === undefined || format.json_schema === null)) {
    throw validationError(
      "When response_format type is 'json_schema', the 'json_schema' field must be provided.",
      'response_format',
    );
  }
}

function checkContext(promptTokens: number, maxTokens: number | null, options: ResolvedModelOptions): void {
  const { maxModelLen } = options;
  if (promptTokens >= maxModelLen) {
    throw validationError(
      `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptTokens} input tokens. ` +
        'Please reduce the length of the input messages.',
      'input_tokens',
      promptTokens,
    );
  }
  if (maxTokens !== null && promptTokens + maxTokens > maxModelLen) {
    throw validationError(
      `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ` +
        `${maxModelLen} tokens and your request has ${promptTokens} input tokens ` +
        `(${maxTokens} > ${maxModelLen} - ${promptTokens}).`,
      'max_tokens',
      maxTokens,
    );
  }
}

function finishPlan(
  endpoint: Endpoint,
  request: ChatRequest | CompletionRequest,
  prompts: readonly PromptInput[],
  maxTokens: number,
  options: ResolvedModelOptions,
): GenerationPlan {
  const n = request.n ?? 1;
  if (n < 1) throw badRequest(`n must be at least 1, got ${n}.`);
  if (n * prompts.length > choicesPerRequestMax) {
    throw badRequest(
      `n times the number of prompts must be at most ${choicesPerRequestMax}, got ${n * prompts.length}.`,
    );
  }
  if (maxTokens < 1) throw badRequest(`max_tokens must be at least 1, got ${maxTokens}.`);
  const priority = request.priority ?? 0;
  if (priority !== 0 && options.schedulingPolicy !== 'priority' && options.priorityWithoutPolicy === 'reject') {
    throw badRequest(`Got priority ${priority} but Priority scheduling is not enabled.`);
  }
  const stops =
    request.stop === undefined || request.stop === null
      ? []
      : typeof request.stop === 'string'
        ? [request.stop]
        : request.stop;
  const stopLengthMax = stops.reduce((max, stop) => Math.max(max, stop.length), 0);
  const choices: ChoiceState[] = [];
  let promptTokens = 0;
  prompts.forEach((prompt, promptIndex) => {
    promptTokens += prompt.tokens;
    for (let j = 0; j < n; j++) {
      const index = promptIndex * n + j;
      const seed = mixHash(mixHash(fnv1a(prompt.key, options.seed >>> 0), request.seed ?? 0), j);
      const source = tokenSource(request.response_format, request.ignore_eos === true, seed, options);
      choices.push(
        new ChoiceState(
          index,
          prompt.tokens,
          source,
          maxTokens,
          stops.filter((s) => s.length > 0),
          stopLengthMax,
        ),
      );
    }
  });
  return {
    endpoint,
    model: options.model,
    stream: request.stream === true,
    ...usageFlags(request.stream === true ? request.stream_options : undefined),
    priority: options.schedulingPolicy === 'priority' ? priority : 0,
    promptTokens,
    choices,
  };
}

function tokenSource(
  format: ResponseFormat | null | undefined,
  ignoreEos: boolean,
  seed: number,
  options: ResolvedModelOptions,
): TokenSource {
  const rng = createRng(seed);
  if (format?.type === 'json_schema' || format?.type === 'json_object') {
    const schema = format.type === 'json_schema' ? (format.json_schema?.schema ?? {}) : jsonObjectSchema;
    let value;
    try {
      value = sampleJsonForSchema(schema, rng);
    } catch (error) {
      throw validationError(
        `The json_schema cannot be satisfied by the simulator: ${(error as Error).message}`,
        'response_format',
      );
    }
    return piecesSource(JSON.stringify(value));
  }
  const { min, max } = options.outputTokens;
  return textSource(rng, ignoreEos ? Infinity : rng.int(min, max));
}

/** vLLM's StreamOptions: include_usage defaults to true once stream_options is present. */
function usageFlags(streamOptions: StreamOptions | null | undefined): {
  includeUsage: boolean;
  continuousUsage: boolean;
} {
  if (streamOptions === undefined || streamOptions === null) return { includeUsage: false, continuousUsage: false };
  const includeUsage = streamOptions.include_usage ?? true;
  return { includeUsage, continuousUsage: includeUsage && streamOptions.continuous_usage_stats === true };
}
