/** How long simulated work takes. All durations in milliseconds. */
export interface LatencyProfile {
  /** Prefill time before the first token of a request (also paid again after a preemption: recompute). */
  ttftMs: number;
  /** Extra prefill time per prompt token. */
  prefillMsPerPromptToken: number;
  /** Decode step time with one running sequence. */
  tpotMs: number;
  /** Each further running sequence slows every decode step by this fraction of `tpotMs`. */
  tpotGrowthPerRunningSeq: number;
}

export const defaultLatency: LatencyProfile = {
  ttftMs: 20,
  prefillMsPerPromptToken: 0,
  tpotMs: 10,
  tpotGrowthPerRunningSeq: 0.005,
};

/** Decode step duration with `runningSeqs` sequences in the batch. */
export function decodeStepMs(profile: LatencyProfile, runningSeqs: number): number {
  return profile.tpotMs * (1 + profile.tpotGrowthPerRunningSeq * Math.max(0, runningSeqs - 1));
}

/** Prefill duration of a prompt of `promptTokens` tokens. */
export function prefillMs(profile: LatencyProfile, promptTokens: number): number {
  return profile.ttftMs + profile.prefillMsPerPromptToken * promptTokens;
}
