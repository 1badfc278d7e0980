import { z } from 'zod';
import { experimentKeyLengthMax, requestTagKeyPattern, variantKeyLengthMax } from '../request-tags';
import { metricSummarySchema } from './metric-summary';

/**
 * The contract between the worker's experiments relay and the `ab-results` plugin: the payload of
 * the external evidence one submitted result sends to the settlement of each request tagged with
 * its experiment. The relay fills it from the stored result and decides, per request, what the
 * plugin cannot check itself (was this user assigned to the tagged variant, was the request made
 * while the experiment ran, did the submitter's own keys make every tagged request). The plugin
 * computes the statistics. It must fit the host's 4 KiB evidence payload, hence `variationsMax`.
 */

/** Plugin id of the A/B plugin, the evidence's `pluginId`. */
export const abResultsPluginId = 'ab-results';
/** `source` of the evidence the experiments relay sends. */
export const abEvidenceSource = 'experiments';
/** Variations one result may carry (control included): 8 ratio summaries with the longest keys fit in 4 KiB. */
export const abVariationsMax = 8;
/** Characters of a result id or a metric id. */
export const abResultIdLengthMax = 64;
export const abMetricIdLengthMax = 64;

/** Evidence id of a result's evidence: one per result, so a redelivered result is counted once. */
export function abEvidenceId(resultId: string): string {
  return `ab-result-${resultId}`;
}

const key = (what: string, lengthMax: number) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .max(lengthMax, `${what} may be at most ${lengthMax} characters`)
    .regex(
      requestTagKeyPattern,
      `${what} may only hold letters, digits, '.', '_' and '-', starting with a letter or digit`,
    );

export const abResultIdSchema = key('resultId', abResultIdLengthMax);
export const abMetricIdSchema = key('metricId', abMetricIdLengthMax);
export const abExperimentKeySchema = key('experimentKey', experimentKeyLengthMax);
export const abVariantKeySchema = key('variantKey', variantKeyLengthMax);

export const abVariationSchema = z.object({
  key: abVariantKeySchema,
  summary: metricSummarySchema,
  /** Share of units the experiment meant to send here (any positive scale); all equal when left out. */
  weight: z.number().positive().finite().optional(),
});
export type AbVariation = z.output<typeof abVariationSchema>;

export const abEvidencePayloadSchema = z
  .object({
    v: z.literal(1),
    resultId: abResultIdSchema,
    experimentKey: abExperimentKeySchema,
    metricId: abMetricIdSchema,
    higherIsBetter: z.boolean(),
    /** The variant the scored request was tagged with (`x-tokenwise-experiment`). */
    variantKey: abVariantKeySchema,
    variations: z.array(abVariationSchema).min(2).max(abVariationsMax),
    eligibility: z.object({
      /** The request's user is in the tagged variant's assignments sent with the result. */
      assigned: z.boolean(),
      /** The request was made between the experiment's start and end. */
      duringExperiment: z.boolean(),
      /** Every tagged request of the experiment was made by keys of the user behind the submitting service key. */
      selfSubmitted: z.boolean(),
    }),
  })
  .superRefine((payload, ctx) => {
    const keys = payload.variations.map((variation) => variation.key);
    if (new Set(keys).size !== keys.length)
      ctx.addIssue({ code: 'custom', path: ['variations'], message: 'variation keys must be distinct' });
    const kinds = new Set(payload.variations.map((variation) => variation.summary.kind));
    if (kinds.size > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['variations'],
        message: 'every variation must carry the same metric kind',
      });
  });
export type AbEvidencePayload = z.output<typeof abEvidencePayloadSchema>;
