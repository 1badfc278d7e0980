import type { Amount } from '@tokenwise/core';
import type { ExternalEvidence } from '@tokenwise/plugin-sdk';

export type { ExternalEvidence };

/** One plugin as the team configured it. */
export interface ConfiguredPlugin {
  pluginId: string;
  weight: number;
  config: unknown;
  /** From the plugin's definition: how long evidence may take, and how often to ask again. */
  evidenceWindowSeconds: number;
  pollIntervalSeconds: number;
}

export interface SettlementContext {
  /** false: nothing to settle (unknown request, system usage, not charged, already settled). */
  settle: boolean;
  reason: string;
  /** For a charged request that simply has nothing to score: record the skip as its settlement. */
  recordSkip: boolean;
  plugins: ConfiguredPlugin[];
}

/** What one plugin said, as recorded with the settlement. */
export interface PluginOutcomeRecord {
  pluginId: string;
  weight: number;
  status: 'scored' | 'pending' | 'not_applicable' | 'error';
  score?: number;
  confidence?: number;
  evidence?: unknown;
  rationale?: string;
  reason?: string;
  /** Not applicable because the org's judge wallet could not pay the plugin's LLM calls: named in the settlement's reason. */
  judgeBudgetExhausted?: boolean;
  attempts: number;
}

export interface SettlementResult {
  status: 'settled' | 'skipped';
  reason: string;
  score?: number;
  confidence?: number;
  refund?: Amount;
  reward?: Amount;
}
