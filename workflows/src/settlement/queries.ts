import { defineQuery } from '@temporalio/workflow';
import type { PluginOutcomeRecord, SettlementResult } from './types';

export interface SettlementState {
  requestId: string;
  phase: 'loading' | 'scoring' | 'settling' | 'done';
  outcomes: PluginOutcomeRecord[];
  result?: SettlementResult;
}

/** Where a settlement stands: phase, each plugin's outcome so far, the result once done. */
export const settlementStateQuery = defineQuery<SettlementState>('settlementState');
