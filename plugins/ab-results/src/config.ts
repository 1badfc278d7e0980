import { abExperimentKeySchema, abMetricIdSchema, abVariantKeySchema, effectPriorSchema } from '@tokenwise/core';
import { z } from 'zod';

export const abMethods = ['bayesian', 'frequentist'] as const;
export type AbMethod = (typeof abMethods)[number];

/** Experiments one team may configure by name; others take `defaults`. */
export const configuredExperimentsMax = 200;
/** The longest evidence window, in days: the plugin's own window (the host's 30-day maximum). */
export const evidenceWindowDaysMax = 30;
/** Units per variation below which a result is not read yet (GrowthBook's minimum sample size plays this part). */
export const minUnitsPerVariationDefault = 100;
export const minUnitsPerVariationMax = 1_000_000_000;

/** How one experiment's results are read. */
export const experimentConfigSchema = z.strictObject({
  controlKey: abVariantKeySchema
    .default('control')
    .describe('Variant key of the control: requests tagged with it earn nothing.'),
  decisionMetric: abMetricIdSchema
    .optional()
    .describe(
      'Metric id that decides the experiment. Left out: a result counts only while it is the only metric seen for the experiment.',
    ),
  method: z
    .enum(abMethods)
    .default('bayesian')
    .describe(
      "bayesian: score = chance to win (GrowthBook's engine); frequentist: score = 1 - one-sided p-value (Welch).",
    ),
  prior: effectPriorSchema
    .optional()
    .describe('Normal prior on the relative lift (Bayesian only); left out: flat, as GrowthBook by default.'),
  minUnitsPerVariation: z
    .number()
    .int('must be a whole number of units')
    .min(2, 'must be at least 2: a variance needs two units')
    .max(minUnitsPerVariationMax)
    .default(minUnitsPerVariationDefault)
    .describe('Units the control and the scored variant each need before a result is read; below it, scoring waits.'),
});
export type ExperimentConfig = z.output<typeof experimentConfigSchema>;

/** Per-team configuration of the A/B plugin; `{}` is valid (every experiment on the defaults). */
export const abResultsConfigSchema = z.strictObject({
  experiments: z
    .record(abExperimentKeySchema, experimentConfigSchema)
    .default({})
    .refine(
      (experiments) => Object.keys(experiments).length <= configuredExperimentsMax,
      `may configure at most ${configuredExperimentsMax} experiments; the others use defaults`,
    )
    .describe('Settings per experiment key (x-tokenwise-experiment: <experimentKey>:<variantKey>).'),
  defaults: experimentConfigSchema
    .default(experimentConfigSchema.parse({}))
    .describe('Settings of experiments not listed.'),
  evidenceWindowDays: z
    .number()
    .int('must be a whole number of days')
    .min(1)
    .max(evidenceWindowDaysMax)
    .default(evidenceWindowDaysMax)
    .describe('Days after the request in which a result counts; results observed later are ignored.'),
});
export type AbResultsConfig = z.output<typeof abResultsConfigSchema>;
export type AbResultsConfigInput = z.input<typeof abResultsConfigSchema>;

/** The settings that apply to one experiment key. */
export function experimentConfigFor(config: AbResultsConfig, experimentKey: string): ExperimentConfig {
  return Object.hasOwn(config.experiments, experimentKey)
    ? (config.experiments[experimentKey] as ExperimentConfig)
    : config.defaults;
}
