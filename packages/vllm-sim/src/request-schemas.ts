import { z } from 'zod';

// Unknown fields pass through, as vLLM's OpenAIBaseModel (extra="allow") accepts and ignores them.
const int64 = z.number().int();
const stop = z.union([z.string(), z.array(z.string())]).nullish();

export const streamOptionsSchema = z.looseObject({
  include_usage: z.boolean().nullish(),
  continuous_usage_stats: z.boolean().nullish(),
});

export const responseFormatSchema = z.looseObject({
  type: z.enum(['text', 'json_object', 'json_schema', 'structural_tag']),
  json_schema: z
    .looseObject({ name: z.string().optional(), schema: z.unknown().optional(), strict: z.boolean().nullish() })
    .nullish(),
});

const contentPart = z.looseObject({ type: z.string().optional(), text: z.string().optional() });
export const chatMessageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
});

const common = {
  model: z.string().nullish(),
  n: int64.nullish(),
  seed: int64.nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: streamOptionsSchema.nullish(),
  temperature: z.number().nullish(),
  ignore_eos: z.boolean().nullish(),
  min_tokens: int64.nullish(),
  response_format: responseFormatSchema.nullish(),
  priority: int64.nullish(),
  request_id: z.string().nullish(),
};

export const chatRequestSchema = z.looseObject({
  ...common,
  messages: z.array(chatMessageSchema),
  max_tokens: int64.nullish(),
  max_completion_tokens: int64.nullish(),
  add_generation_prompt: z.boolean().nullish(),
});

export const completionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()), z.array(int64), z.array(z.array(int64))]).nullish(),
  max_tokens: int64.nullish(),
  echo: z.boolean().nullish(),
});

export const tokenizeRequestSchema = z.looseObject({
  model: z.string().nullish(),
  prompt: z.string().optional(),
  messages: z.array(chatMessageSchema).optional(),
  add_generation_prompt: z.boolean().nullish(),
  return_token_strs: z.boolean().nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type TokenizeRequest = z.infer<typeof tokenizeRequestSchema>;
export type StreamOptions = z.infer<typeof streamOptionsSchema>;
export type ResponseFormat = z.infer<typeof responseFormatSchema>;

/** Formats zod issues roughly as pydantic lists them, so the message names the field to fix. */
export function describeIssues(error: z.ZodError): string {
  const issues = error.issues.map((issue) => ({
    type: issue.code,
    loc: ['body', ...issue.path.map(String)],
    msg: issue.message,
  }));
  return `${issues.length} validation error${issues.length === 1 ? '' : 's'}: ${JSON.stringify(issues)}`;
}
