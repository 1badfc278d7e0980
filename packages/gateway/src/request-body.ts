import {
  experimentHeader,
  parseExperimentTag,
  parseSessionTag,
  priorityTiers,
  sessionHeader,
  type PriorityTier,
} from '@tokenwise/core';
import type { IncomingMessage } from 'node:http';
import { badRequest, GatewayError } from './openai-error';

/** Reads a JSON object body, refusing more than `bytesMax` bytes. */
export async function readJsonBody(req: IncomingMessage, bytesMax: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > bytesMax)
    throw new GatewayError(
      413,
      `The request body is ${declared} bytes; at most ${bytesMax} are accepted.`,
      'invalid_request_error',
      'body_too_large',
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > bytesMax)
      throw new GatewayError(
        413,
        `The request body exceeds ${bytesMax} bytes.`,
        'invalid_request_error',
        'body_too_large',
      );
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('The request body must be JSON, e.g. {"model": "...", "messages": [...]}.');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

export const priorityHeader = 'x-tokenwise-priority';
/** Body field a client may use instead of the header; stripped before forwarding. */
export const priorityBodyField = 'tokenwise_priority';
const tagHeaderPrefix = 'x-tokenwise-';
const tagsMax = 16;
const tagValueLengthMax = 256;

/** The priority tier from the header or body field; `normal` when neither is set. */
export function tierOf(req: IncomingMessage, body: Record<string, unknown>): PriorityTier {
  const raw = (req.headers[priorityHeader] as string | undefined) ?? body[priorityBodyField];
  if (raw === undefined) return 'normal';
  if (typeof raw !== 'string' || !(priorityTiers as readonly string[]).includes(raw)) {
    throw badRequest(
      `Priority must be one of ${priorityTiers.join(', ')} (header ${priorityHeader} or field ${priorityBodyField}).`,
      priorityBodyField,
    );
  }
  return raw as PriorityTier;
}

/** `x-tokenwise-*` headers (repository, experiment, ...) that scoring plugins read, bounded. */
export function tagsOf(req: IncomingMessage): Record<string, string> {
  const tags: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith(tagHeaderPrefix) || name === priorityHeader || typeof value !== 'string') continue;
    if (++count > tagsMax) throw badRequest(`At most ${tagsMax} x-tokenwise-* headers are accepted.`);
    // The evidence tags are refused when malformed, never cut: a cut id would link to the wrong evidence.
    const parsed =
      name === sessionHeader
        ? parseSessionTag(value)
        : name === experimentHeader
          ? parseExperimentTag(value)
          : undefined;
    if (parsed !== undefined && !parsed.ok) throw badRequest(parsed.message);
    tags[name.slice(tagHeaderPrefix.length)] = value.slice(0, tagValueLengthMax);
  }
  return tags;
}

/** The usage row's evidence columns from tags `tagsOf` accepted: session id, experiment and variant keys. */
export function evidenceColumnsOf(tags: Readonly<Record<string, string>>): {
  sessionId: string | null;
  experimentKey: string | null;
  variantKey: string | null;
} {
  const session = tags[sessionHeader.slice(tagHeaderPrefix.length)];
  const experiment = tags[experimentHeader.slice(tagHeaderPrefix.length)];
  const parsed = experiment === undefined ? undefined : parseExperimentTag(experiment);
  return {
    sessionId: session !== undefined && parseSessionTag(session).ok ? session : null,
    experimentKey: parsed?.ok === true ? parsed.value.experimentKey : null,
    variantKey: parsed?.ok === true ? parsed.value.variantKey : null,
  };
}

/** Checks what the gateway itself relies on; everything else passes through to vLLM untouched. */
export function validateInferenceBody(
  kind: 'chat' | 'completions',
  body: Record<string, unknown>,
): { model: string; stream: boolean } {
  if (typeof body.model !== 'string' || body.model.length === 0 || body.model.length > 200)
    throw badRequest('`model` is required: the name of a model from GET /v1/models.', 'model');
  if (body.stream !== undefined && typeof body.stream !== 'boolean')
    throw badRequest('`stream` must be true or false.', 'stream');
  if (kind === 'chat' && (!Array.isArray(body.messages) || body.messages.length === 0))
    throw badRequest('`messages` must be a non-empty array of chat messages.', 'messages');
  if (kind === 'completions' && body.prompt === undefined) throw badRequest('`prompt` is required.', 'prompt');
  if (body.stream_options !== undefined && (body.stream_options === null || typeof body.stream_options !== 'object'))
    throw badRequest('`stream_options` must be an object.', 'stream_options');
  if (body.user !== undefined && typeof body.user !== 'string') throw badRequest('`user` must be a string.', 'user');
  return { model: body.model, stream: body.stream === true };
}
