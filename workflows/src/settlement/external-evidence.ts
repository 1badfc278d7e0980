// Bookkeeping of external evidence inside `settleUsage`. Pure and deterministic: the workflow
// bundles it, the client helper uses its checks before sending. No I/O, no Node built-ins.
import type { ExternalEvidence } from '@tokenwise/plugin-sdk';

export type { ExternalEvidence };

/** Bytes of UTF-8 JSON one evidence payload may take: a summary (an A/B result of up to 8 variations), or ids to fetch. */
export const externalEvidencePayloadBytesMax = 4 * 1024;
/** Evidence entries a settlement records, accepted and rejected together; later signals are only counted. */
export const externalEvidenceEntriesMax = 32;
/** Accepted evidence entries per plugin; each may wake the plugin once, so this bounds its extra polls. */
export const externalEvidencePerPluginMax = 8;
/** Characters of `evidenceId`, `pluginId` and `source`. */
export const externalEvidenceIdCharsMax = 128;

/** Evidence as the settlement accepted it for one of its plugins. */
export interface ReceivedEvidence extends ExternalEvidence {
  /** Workflow time when the signal was handled, ISO 8601. */
  readonly receivedAt: string;
}

/** Evidence the settlement refused; its payload is not kept. */
export interface RejectedEvidence {
  readonly pluginId: string;
  readonly evidenceId: string;
  readonly reason: string;
  readonly receivedAt: string;
}

/** What a settlement has received from outside, as its state query shows it. */
export interface SettlementEvidenceState {
  received: ReceivedEvidence[];
  rejected: RejectedEvidence[];
  /** Signals ignored because their evidenceId was already recorded (a redelivery). */
  duplicatesIgnored: number;
  /** Signals ignored because `externalEvidenceEntriesMax` entries were already recorded. */
  droppedOverLimit: number;
}

/** UTF-8 length of a string, without TextEncoder (not every sandbox has it). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      bytes += 4;
      index++;
    } else bytes += 3;
  }
  return bytes;
}

function boundedString(value: unknown, what: string): string | undefined {
  if (typeof value !== 'string' || value.trim().length === 0) return `${what} must be a non-empty string`;
  if (value.length > externalEvidenceIdCharsMax)
    return `${what} must be at most ${externalEvidenceIdCharsMax} characters`;
  return undefined;
}

function payloadProblem(payload: unknown): string | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch {
    return 'payload must be plain JSON (no bigint, no cycles)';
  }
  if (json === undefined || payload === undefined) return 'payload is required (JSON; null is allowed)';
  const bytes = utf8ByteLength(json);
  if (bytes > externalEvidencePayloadBytesMax) {
    return `payload is ${bytes} bytes of JSON, more than ${externalEvidencePayloadBytesMax}: send a summary, or ids the plugin fetches`;
  }
  return undefined;
}

/** Why `value` is not well-formed external evidence, or undefined when it is. */
export function externalEvidenceProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'evidence must be an object';
  const evidence = value as Record<string, unknown>;
  const observedAt = evidence.observedAt;
  return (
    boundedString(evidence.pluginId, 'pluginId') ??
    boundedString(evidence.evidenceId, 'evidenceId') ??
    boundedString(evidence.source, 'source') ??
    (typeof observedAt !== 'string' || observedAt.length > 40 || Number.isNaN(Date.parse(observedAt))
      ? 'observedAt must be an ISO 8601 timestamp'
      : undefined) ??
    payloadProblem(evidence.payload)
  );
}

function clip(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, externalEvidenceIdCharsMax) : '';
}

/**
 * The evidence a settlement holds, by plugin. Before the settlement knows its plugins, evidence
 * waits (bounded like the rest); once scoring starts it is accepted for a plugin still waiting on
 * evidence, or recorded as rejected with the reason. Nothing here throws on bad input: a signal
 * must never fail the workflow.
 */
export class EvidenceBook {
  readonly state: SettlementEvidenceState = { received: [], rejected: [], duplicatesIgnored: 0, droppedOverLimit: 0 };
  private readonly seenIds = new Set<string>();
  private readonly waiting: ReceivedEvidence[] = [];
  /** Plugin ids of the settlement, once known; `closedReason` once no evidence can be used any more. */
  private pluginIds: readonly string[] | undefined;
  private readonly finished = new Map<string, string>();
  private closedReason: string | undefined;

  /** Handles one signal; `receivedAt` is workflow time. */
  deliver(value: unknown, receivedAt: string): void {
    if (this.state.received.length + this.state.rejected.length + this.waiting.length >= externalEvidenceEntriesMax) {
      this.state.droppedOverLimit++;
      return;
    }
    const problem = externalEvidenceProblem(value);
    const raw = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (problem !== undefined) {
      this.state.rejected.push({
        pluginId: clip(raw.pluginId),
        evidenceId: clip(raw.evidenceId),
        reason: problem,
        receivedAt,
      });
      return;
    }
    const evidence = value as ExternalEvidence;
    if (this.seenIds.has(evidence.evidenceId)) {
      this.state.duplicatesIgnored++;
      return;
    }
    this.seenIds.add(evidence.evidenceId);
    const entry: ReceivedEvidence = {
      pluginId: evidence.pluginId,
      evidenceId: evidence.evidenceId,
      payload: evidence.payload,
      source: evidence.source,
      observedAt: evidence.observedAt,
      receivedAt,
    };
    if (this.pluginIds === undefined && this.closedReason === undefined) this.waiting.push(entry);
    else this.classify(entry);
  }

  /** Scoring starts with these plugins: evidence that waited is accepted or rejected now. */
  open(pluginIds: readonly string[]): void {
    this.pluginIds = pluginIds;
    this.drain();
  }

  /** No plugin will look at evidence any more (skipped settlement, scoring over). */
  close(reason: string): void {
    this.closedReason = reason;
    this.drain();
  }

  /** A plugin stopped waiting (scored, not applicable, error): later evidence for it is rejected. */
  finish(pluginId: string, status: string): void {
    this.finished.set(pluginId, status);
  }

  /** Evidence accepted for a plugin, oldest first. */
  forPlugin(pluginId: string): ExternalEvidence[] {
    return this.state.received
      .filter((entry) => entry.pluginId === pluginId)
      .map(({ receivedAt: _receivedAt, ...evidence }) => evidence);
  }

  /** How many entries were accepted for a plugin; the workflow wakes the plugin when this grows. */
  countFor(pluginId: string): number {
    return this.state.received.reduce((count, entry) => count + (entry.pluginId === pluginId ? 1 : 0), 0);
  }

  private drain(): void {
    for (const entry of this.waiting.splice(0)) this.classify(entry);
  }

  private classify(entry: ReceivedEvidence): void {
    const reject = (reason: string): void => {
      this.state.rejected.push({
        pluginId: entry.pluginId,
        evidenceId: entry.evidenceId,
        reason,
        receivedAt: entry.receivedAt,
      });
    };
    if (this.closedReason !== undefined) return reject(this.closedReason);
    const pluginIds = this.pluginIds ?? [];
    if (!pluginIds.includes(entry.pluginId))
      return reject(
        `no plugin "${entry.pluginId}" in this settlement (its plugins: ${pluginIds.join(', ') || 'none'})`,
      );
    const finished = this.finished.get(entry.pluginId);
    if (finished !== undefined)
      return reject(`plugin "${entry.pluginId}" already finished (${finished}) before this evidence arrived`);
    if (this.countFor(entry.pluginId) >= externalEvidencePerPluginMax)
      return reject(`plugin "${entry.pluginId}" already has ${externalEvidencePerPluginMax} evidence entries`);
    this.state.received.push(entry);
  }
}
