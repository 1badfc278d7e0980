import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExternalEvidence, SettlementEvidenceState } from './external-evidence';
import type { PluginOutcomeRecord, SettlementResult } from './types';

export interface SettlementState {
  requestId: string;
  phase: 'loading' | 'scoring' | 'settling' | 'done';
  outcomes: PluginOutcomeRecord[];
  /** External evidence received, rejected, duplicated or dropped so far. */
  evidence: SettlementEvidenceState;
  result?: SettlementResult;
}

/** Where a settlement stands: phase, each plugin's outcome so far, its external evidence, the result once done. */
export const settlementStateQuery = defineQuery<SettlementState>('settlementState');

/**
 * External evidence for one of the settlement's plugins (an A/B result, say). Idempotent by
 * `evidenceId`; a bad, late or unknown-plugin delivery is recorded as rejected, never fails the
 * settlement. Send it with `sendExternalEvidence`, which checks it and names a closed settlement.
 */
export const externalEvidenceSignal = defineSignal<[ExternalEvidence]>('externalEvidence');
