import { parseWith } from '@tokenwise/core';
import { z } from 'zod';
import { type PluginContext } from './context';
import { type ScoreInput } from './score-input';
import { type ScoreResult } from './score-result';
import { isSemVer } from './semver';
import { SDK_VERSION } from './version';

/** Bounds on the evidence window: a plugin may wait up to 30 days for evidence (a commit, an A/B result). */
export const evidenceWindowSecondsMax = 30 * 24 * 60 * 60;
export const pollIntervalSecondsMin = 10;
export const pollIntervalSecondsMax = 24 * 60 * 60;

export const pluginIdPattern = /^[a-z][a-z0-9-]{1,63}$/;

/** What a plugin author writes. TConfig is the parsed per-team configuration. */
export interface PluginSpec<TConfig> {
  /** Stable id, e.g. "llm-judge": lowercase letters, digits and dashes, 2..64 characters. */
  readonly id: string;
  /** The plugin's own semantic version, recorded with every score. */
  readonly version: string;
  /** The SDK version the plugin was built against; defaults to this SDK's. */
  readonly sdkVersion?: string;
  /** zod schema of the per-team configuration, checked when written and again when run. */
  readonly configSchema: z.ZodType<TConfig>;
  /** How long after the request evidence may still arrive (0 = score once, at once). */
  readonly evidenceWindowSeconds?: number;
  /** How often to ask again while the plugin answers `pending`. */
  readonly pollIntervalSeconds?: number;
  score(input: ScoreInput<TConfig>, ctx: PluginContext): Promise<ScoreResult>;
}

/** A validated, frozen plugin, as definePlugin returns it and the loader accepts it. */
export interface PluginDefinition<TConfig = unknown> {
  readonly id: string;
  readonly version: string;
  readonly sdkVersion: string;
  readonly configSchema: z.ZodType<TConfig>;
  readonly evidenceWindowSeconds: number;
  readonly pollIntervalSeconds: number;
  score(input: ScoreInput<TConfig>, ctx: PluginContext): Promise<ScoreResult>;
}

const isFunction = (value: unknown): boolean => typeof value === 'function';
// Structural, not instanceof: an npm plugin may bring its own copy of zod.
const isSchema = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  isFunction((value as { safeParse?: unknown }).safeParse) &&
  isFunction((value as { parse?: unknown }).parse);

const pluginSpecSchema = z
  .object({
    id: z
      .string()
      .regex(
        pluginIdPattern,
        'must be 2..64 lowercase letters, digits or dashes, starting with a letter (e.g. "llm-judge")',
      ),
    version: z.string().refine(isSemVer, 'must be a semantic version such as 1.0.0'),
    sdkVersion: z.string().refine(isSemVer, 'must be a semantic version such as 1.0.0').default(SDK_VERSION),
    configSchema: z.custom<z.ZodType>(isSchema, 'must be a zod schema (an object with parse and safeParse)'),
    evidenceWindowSeconds: z.number().int().min(0).max(evidenceWindowSecondsMax).default(0),
    pollIntervalSeconds: z.number().int().min(pollIntervalSecondsMin).max(pollIntervalSecondsMax).default(60),
    score: z.custom<PluginDefinition['score']>(
      isFunction,
      'must be a function score(input, ctx) returning a Promise<ScoreResult>',
    ),
  })
  .refine((spec) => spec.evidenceWindowSeconds === 0 || spec.pollIntervalSeconds <= spec.evidenceWindowSeconds, {
    message: 'must not be longer than evidenceWindowSeconds',
    path: ['pollIntervalSeconds'],
  });

/** Validates a plugin's shape and returns it frozen; throws a ValidationError naming each bad field. */
export function definePlugin<TConfig>(spec: PluginSpec<TConfig>): PluginDefinition<TConfig> {
  const what = typeof (spec as { id?: unknown } | null)?.id === 'string' ? `plugin "${spec.id}"` : 'plugin definition';
  const parsed = parseWith(pluginSpecSchema, spec, what);
  return Object.freeze({
    id: parsed.id,
    version: parsed.version,
    sdkVersion: parsed.sdkVersion,
    configSchema: spec.configSchema,
    evidenceWindowSeconds: parsed.evidenceWindowSeconds,
    pollIntervalSeconds: parsed.pollIntervalSeconds,
    score: spec.score,
  });
}

/** Parses a team's raw plugin configuration with the plugin's schema; the ValidationError names each bad field. */
export function parsePluginConfig<TConfig>(plugin: PluginDefinition<TConfig>, raw: unknown): TConfig {
  return parseWith(plugin.configSchema, raw, `config of plugin "${plugin.id}"`);
}
