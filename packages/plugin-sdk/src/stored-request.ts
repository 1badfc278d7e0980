import { type ChatMessage, type ScoreInput } from './score-input';

/** A past request as the platform stores it (usage row plus payload), before it becomes a ScoreInput. */
export interface StoredRequest {
  readonly requestId: string;
  readonly orgId: string;
  readonly userId: string | null;
  readonly teamId: string | null;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cost: bigint;
  readonly currency: string;
  readonly tags: unknown;
  /** The usage row's validated evidence columns; null (or absent, for older callers) when untagged. */
  readonly sessionId?: string | null;
  readonly experimentKey?: string | null;
  readonly variantKey?: string | null;
  readonly createdAt: Date;
  /** Chat messages or prompt text as stored; null or undefined when the payload is gone. */
  readonly prompt: unknown;
  readonly completion: string | null;
}

const chatRoles: readonly ChatMessage['role'][] = ['system', 'user', 'assistant', 'tool', 'developer'];

function messagesOf(prompt: unknown): ScoreInput['promptMessages'] {
  if (typeof prompt === 'string') return prompt;
  // A purged payload is an empty prompt, not the two characters `""`.
  if (prompt === null || prompt === undefined) return '';
  if (!Array.isArray(prompt)) return JSON.stringify(prompt);
  return prompt.map((message: { role?: unknown; content?: unknown }): ChatMessage => ({
    role: (chatRoles as readonly string[]).includes(String(message.role))
      ? (message.role as ChatMessage['role'])
      : 'user',
    content: typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? ''),
  }));
}

/** The ScoreInput of a stored request: one mapping, shared by settlement and the API's dry run. */
export function scoreInputOf<TConfig>(stored: StoredRequest, config: TConfig): ScoreInput<TConfig> {
  return {
    requestId: stored.requestId,
    model: stored.model,
    promptMessages: messagesOf(stored.prompt),
    completion: stored.completion ?? '',
    promptTokens: stored.promptTokens,
    completionTokens: stored.completionTokens,
    cost: { minorUnits: stored.cost, currency: stored.currency },
    userId: stored.userId ?? '',
    teamId: stored.teamId ?? '',
    orgId: stored.orgId,
    tags: (stored.tags ?? {}) as Record<string, string>,
    ...experimentOf(stored),
    ...(typeof stored.sessionId === 'string' ? { sessionId: stored.sessionId } : {}),
    createdAt: stored.createdAt,
    config,
  };
}

// Both keys or none: a half tag names no variant.
function experimentOf(stored: StoredRequest): Pick<ScoreInput, 'experiment'> {
  if (typeof stored.experimentKey !== 'string' || typeof stored.variantKey !== 'string') return {};
  return { experiment: { experimentKey: stored.experimentKey, variantKey: stored.variantKey } };
}
