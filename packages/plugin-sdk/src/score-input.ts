import type { JsonValue } from './score-result';

/**
 * Evidence delivered to a settlement from outside (an A/B result, say), as the plugin it names
 * receives it. `evidenceId` is the sender's idempotency key; `payload` is small JSON (the host caps
 * it at 4 KiB of UTF-8 JSON, externalEvidencePayloadBytesMax): large evidence travels as ids to fetch.
 */
export interface ExternalEvidence {
  readonly pluginId: string;
  readonly evidenceId: string;
  readonly payload: JsonValue;
  /** Who sent it, e.g. "ab-platform". Informational only: not authenticated by the host. */
  readonly source: string;
  /** When the source observed it, ISO 8601. */
  readonly observedAt: string;
}

/** An experiment tag: `<experimentKey>:<variantKey>` as the gateway validated and stored it. */
export interface RequestExperiment {
  readonly experimentKey: string;
  readonly variantKey: string;
}

/** One chat message of the scored request, as the client sent it (content flattened to text). */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  readonly content: string;
}

/** What the request cost, in the currency that paid: bigint minor units, never a float. */
export interface ScoreCost {
  readonly minorUnits: bigint;
  readonly currency: string;
}

/**
 * The request as scoring sees it, loaded by id inside the activity, plus the plugin's config for
 * the team, already parsed by the plugin's own schema. Texts are the stored prompt and completion.
 */
export interface ScoreInput<TConfig = unknown> {
  readonly requestId: string;
  readonly model: string;
  /** Chat messages for /v1/chat/completions, prompt text for /v1/completions. */
  readonly promptMessages: readonly ChatMessage[] | string;
  readonly completion: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cost: ScoreCost;
  readonly userId: string;
  readonly teamId: string;
  readonly orgId: string;
  /** x-tokenwise-* request tags (repository, experiment, ideal, ...). Caller-controlled: untrusted. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * The A/B variant the request says it served (`x-tokenwise-experiment`, validated charset and
   * length). The client's word, proving nothing alone. Filled by hosts on SDK 1.2+.
   */
  readonly experiment?: RequestExperiment;
  /** The coding session the request says it ran under (`x-tokenwise-session`, validated). Untrusted; SDK 1.2+. */
  readonly sessionId?: string;
  readonly createdAt: Date;
  readonly config: TConfig;
  /**
   * External evidence received so far for this plugin, oldest first. The settlement host (SDK 1.1+)
   * always passes it, empty until some arrives; optional only so that older callers still compile.
   */
  readonly externalEvidence?: readonly ExternalEvidence[];
}

/** The prompt as plain text: chat messages as `role: content` lines, prompt text as is. */
export function promptText(promptMessages: ScoreInput['promptMessages']): string {
  if (typeof promptMessages === 'string') return promptMessages;
  return promptMessages.map((message) => `${message.role}: ${message.content}`).join('\n');
}
