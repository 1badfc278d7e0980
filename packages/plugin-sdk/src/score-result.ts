import { parseWith } from '@tokenwise/core';
import { z } from 'zod';

/** Evidence is stored with the settlement; keep it to a summary, not transcripts. */
export const evidenceBytesMax = 16 * 1024;
export const rationaleCharsMax = 4_000;
export const reasonCharsMax = 1_000;
/** Evidence keys one pending result may ask the host to index (a completion's fingerprints fit). */
export const evidenceKeysMax = 2_048;
/** Characters of one evidence key. */
export const evidenceKeyCharsMax = 128;

/** A JSON value: what evidence may hold (no bigint, undefined, functions, NaN or Infinity). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The plugin judged the output: score and confidence in [0, 1]. */
export interface ScoredResult {
  readonly status: 'scored';
  readonly score: number;
  readonly confidence: number;
  readonly evidence: JsonObject;
  readonly rationale: string;
}

/** Evidence is not in yet (e.g. the commit has not landed); the workflow polls again later. */
export interface PendingResult {
  readonly status: 'pending';
  readonly reason: string;
  /**
   * Keys under which evidence for this request will be recognised when it arrives (a session id,
   * code fingerprints): the host indexes them for the plugin's evidence window, so whatever receives
   * the evidence (a webhook relay) finds the waiting settlements through the index, never by
   * scanning Temporal. Printable ASCII; the host stores them per org and plugin. SDK 1.2+.
   */
  readonly evidenceKeys?: readonly string[];
}

/** This plugin has nothing to say about this request (e.g. no ideal answer to compare with). */
export interface NotApplicableResult {
  readonly status: 'not_applicable';
  readonly reason: string;
}

export type ScoreResult = ScoredResult | PendingResult | NotApplicableResult;

const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number().refine(Number.isFinite, 'must be a finite number'),
    z.boolean(),
    z.null(),
    z.array(jsonValueSchema),
    z.record(z.string(), jsonValueSchema),
  ]),
);

const evidenceSchema = z
  .record(z.string(), jsonValueSchema)
  .refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= evidenceBytesMax, {
    message: `must serialise to at most ${evidenceBytesMax} bytes of JSON; keep evidence to a summary`,
  });

const unitInterval = z.number().refine(Number.isFinite, 'must be a finite number').min(0).max(1);
const reasonSchema = z.string().trim().min(1, 'must say why').max(reasonCharsMax);

/** The shape every plugin result must have; extra keys are refused so typos do not pass silently. */
export const scoreResultSchema = z.discriminatedUnion('status', [
  z.strictObject({
    status: z.literal('scored'),
    score: unitInterval,
    confidence: unitInterval,
    evidence: evidenceSchema,
    rationale: z.string().max(rationaleCharsMax),
  }),
  z.strictObject({
    status: z.literal('pending'),
    reason: reasonSchema,
    evidenceKeys: z
      .array(
        z
          .string()
          .min(1, 'must not be empty')
          .max(evidenceKeyCharsMax)
          .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
      )
      .max(evidenceKeysMax, `at most ${evidenceKeysMax} keys; index a sample (winnowing already keeps few)`)
      .optional(),
  }),
  z.strictObject({ status: z.literal('not_applicable'), reason: reasonSchema }),
]);

/** Checks a plugin's result; throws a ValidationError naming every bad field (score out of range, evidence too big, ...). */
export function validateScoreResult(result: unknown): ScoreResult {
  return parseWith(scoreResultSchema, result, 'score result') as ScoreResult;
}
