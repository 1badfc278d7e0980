import { type SchedulingPolicy } from './engine';
import { type SimFaults } from './faults';
import { type LatencyProfile, defaultLatency } from './latency';

/** How one simulated vLLM server (one model, one replica) behaves. */
export interface SimModelOptions {
  /** Served model name (vLLM's `--served-model-name`). */
  model: string;
  /** `root` in /v1/models (the model path); defaults to `model`. */
  root?: string;
  /** Context window in tokens (`--max-model-len`). */
  maxModelLen?: number;
  /** Concurrent sequences (`--max-num-seqs`); the rest wait. */
  maxNumSeqs?: number;
  /** `--scheduling-policy`: `priority` honours the request's `priority` field. */
  schedulingPolicy?: SchedulingPolicy;
  /** In priority mode, let a waiting request evict an outranked running one. Default true. */
  preemption?: boolean;
  /**
   * What a non-zero `priority` gets without priority scheduling: vLLM V0 (and its docs) refuse it with
   * 400; vLLM V1 silently ignores it (vllm-project/vllm#22997). Default "reject".
   */
  priorityWithoutPolicy?: 'reject' | 'ignore';
  latency?: Partial<LatencyProfile>;
  /** Natural answer length in tokens (before EOS) when `max_tokens` does not cut it first. */
  outputTokens?: { min: number; max: number };
  /** Seed of every generated text; same seed + same request = same text. */
  seed?: number;
  faults?: SimFaults;
}

export interface ResolvedModelOptions {
  model: string;
  root: string;
  maxModelLen: number;
  maxNumSeqs: number;
  schedulingPolicy: SchedulingPolicy;
  preemption: boolean;
  priorityWithoutPolicy: 'reject' | 'ignore';
  latency: LatencyProfile;
  outputTokens: { min: number; max: number };
  seed: number;
}

export const maxModelLenDefault = 8192;
export const maxNumSeqsDefault = 256;
export const outputTokensDefault = { min: 16, max: 64 };

/** Fills defaults and checks ranges; the message says which option to fix. */
export function resolveModelOptions(options: SimModelOptions): ResolvedModelOptions {
  const resolved: ResolvedModelOptions = {
    model: options.model,
    root: options.root ?? options.model,
    maxModelLen: options.maxModelLen ?? maxModelLenDefault,
    maxNumSeqs: options.maxNumSeqs ?? maxNumSeqsDefault,
    schedulingPolicy: options.schedulingPolicy ?? 'fcfs',
    preemption: options.preemption ?? true,
    priorityWithoutPolicy: options.priorityWithoutPolicy ?? 'reject',
    latency: { ...defaultLatency, ...options.latency },
    outputTokens: options.outputTokens ?? outputTokensDefault,
    seed: options.seed ?? 0,
  };
  const problems: string[] = [];
  if (resolved.model.length === 0) problems.push('model must be a non-empty name');
  if (!Number.isInteger(resolved.maxModelLen) || resolved.maxModelLen < 2)
    problems.push('maxModelLen must be an integer >= 2');
  if (!Number.isInteger(resolved.maxNumSeqs) || resolved.maxNumSeqs < 1)
    problems.push('maxNumSeqs must be an integer >= 1');
  const { min, max } = resolved.outputTokens;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min)
    problems.push('outputTokens needs integers 1 <= min <= max');
  for (const [key, value] of Object.entries(resolved.latency)) {
    if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value)))
      problems.push(`latency.${key} must be a finite number >= 0`);
  }
  if (problems.length > 0)
    throw new Error(`Invalid vLLM simulator options for "${options.model}": ${problems.join('; ')}.`);
  return resolved;
}
