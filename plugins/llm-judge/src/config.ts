import { z } from 'zod';

export const evalTypes = ['classify', 'cot_classify'] as const;
export type EvalType = (typeof evalTypes)[number];

/** How the untrusted texts reach the judge. `none` exists to measure attacks; never configure it. */
export const spotlightModes = ['datamark', 'base64', 'none'] as const;
export type SpotlightMode = (typeof spotlightModes)[number];

export const promptTemplateCharsMax = 20_000;
export const choicesMax = 26;
export const samplesMax = 9;

/** A rubric in the style of openai/evals `modelgraded/closedqa.yaml`. */
export const defaultPromptTemplate = `You are assessing a submitted answer on a given task. Here is the data:
[BEGIN DATA]
***
[Task]: {input}
***
[Submission]: {completion}
***
[END DATA]
Does the submission answer the task correctly, completely and helpfully?`;

// evals (classify_utils.get_choice_strings) refuses punctuation in choices: parsing strips it from answers.
const choiceSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(
    /^[^!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~\s](?:[^!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]*[^!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~\s])?$/,
    'must have no punctuation and no leading or trailing space (as in openai/evals)',
  );

const templateSchema = z
  .string()
  .max(promptTemplateCharsMax)
  .refine((template) => template.includes('{input}'), 'must contain the {input} placeholder')
  .refine((template) => template.includes('{completion}'), 'must contain the {completion} placeholder');

/** Per-team configuration of the judge; every field but judgeModel has a safe default. */
export const llmJudgeConfigSchema = z
  .strictObject({
    judgeModel: z.string().trim().min(1, 'must name the judge model').max(200),
    promptTemplate: templateSchema.default(defaultPromptTemplate),
    /** The request tag holding the ideal answer for `{ideal}` (x-tokenwise-ideal). */
    idealTag: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase tag name')
      .default('ideal'),
    /**
     * Whether the judge may see the ideal answer the client put in its request (x-tokenwise-ideal).
     * Off by default: the client is the one being judged, and an ideal it writes itself (its own
     * completion, or a note to the grader) buys it a high score and the reward that comes with it.
     */
    allowClientIdeal: z
      .boolean()
      .default(false)
      .describe(
        'Show the judge the reference answer the client supplied in its x-tokenwise-<idealTag> header. Off: the client could write its own reference and farm rewards.',
      ),
    choices: z.array(choiceSchema).min(2).max(choicesMax).default(['Y', 'N']),
    /** Score of each choice, in any unit: the plugin normalises them to 0..1 (lowest -> 0, highest -> 1). */
    choiceScores: z
      .record(z.string(), z.number().refine(Number.isFinite, 'must be a finite number'))
      .default({ Y: 1, N: 0 }),
    evalType: z.enum(evalTypes).default('cot_classify'),
    /** Judge samples per request; their agreement is the confidence. */
    samples: z.number().int().min(1).max(samplesMax).default(3),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(4_096).optional(),
    /** Ask for JSON constrained by response_format json_schema (vLLM guided decoding); off = parse text as evals does. */
    useJsonSchema: z.boolean().default(false),
    spotlighting: z.enum(spotlightModes).default('datamark'),
    /** Longer inputs, completions and ideals are cut to this before they reach the judge. */
    dataCharsMax: z.number().int().min(100).max(100_000).default(20_000),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.choices.forEach((choice, index) => {
      if (seen.has(choice))
        ctx.addIssue({ code: 'custom', path: ['choices', index], message: `duplicates choice "${choice}"` });
      seen.add(choice);
    });
    for (const choice of config.choices) {
      if (!(choice in config.choiceScores))
        ctx.addIssue({
          code: 'custom',
          path: ['choiceScores', choice],
          message: `missing a score for choice "${choice}"`,
        });
    }
    for (const key of Object.keys(config.choiceScores)) {
      if (!seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['choiceScores', key],
          message: `scores "${key}", which is not one of the choices`,
        });
    }
    const scores = config.choices.map((choice) => config.choiceScores[choice]).filter((score) => score !== undefined);
    if (scores.length === config.choices.length && Math.max(...scores) === Math.min(...scores)) {
      ctx.addIssue({ code: 'custom', path: ['choiceScores'], message: 'must not give every choice the same score' });
    }
  });

export type LlmJudgeConfig = z.output<typeof llmJudgeConfigSchema>;
export type LlmJudgeConfigInput = z.input<typeof llmJudgeConfigSchema>;

/** Each choice's score mapped to 0..1: the lowest configured score is 0, the highest 1. */
export function normalisedChoiceScores(
  config: Pick<LlmJudgeConfig, 'choices' | 'choiceScores'>,
): ReadonlyMap<string, number> {
  const raw = config.choices.map((choice) => config.choiceScores[choice] ?? Number.NaN);
  const min = Math.min(...raw);
  const span = Math.max(...raw) - min;
  return new Map(config.choices.map((choice, index) => [choice, ((raw[index] ?? min) - min) / span]));
}
