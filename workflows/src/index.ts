export { createWorker, dataConverter, payloadConverterPath, taskQueue, workflowsPath, type WorkerDeps } from './worker';
export type { PlatformCheckInput, PlatformCheckResult } from './platform/workflows';
export { payloadConverter } from './payload-converter';
export { installTemporalRuntime } from './runtime';
export { startOutboxRelay, settlementWorkflowId, relayBatchMax, type OutboxRelay } from './settlement/relay';
export { startCarbonRaiseRelay, carbonRaiseRelayBatchMax } from './carbon-raise/relay';
export { startExperimentsRelay, experimentsRelayBatchMax, experimentsRelayPageMax } from './experiments/relay';
export { startGithubRelay, githubRelayBatchMax, type GithubRelayDeps, type GithubRelayOutcome } from './github/relay';
export {
  carbonRaiseDecidedSignal,
  carbonRaisePhaseQuery,
  carbonRaiseWorkflowId,
  type CarbonRaiseInput,
  type CarbonRaisePhase,
  type CarbonRaiseResult,
} from './carbon-raise/signals';
export type { CarbonRaiseDeps } from './carbon-raise/activities';
export { externalEvidenceSignal, settlementStateQuery, type SettlementState } from './settlement/queries';
export { sendExternalEvidence, SettlementClosedError } from './settlement/send-external-evidence';
export {
  externalEvidenceEntriesMax,
  externalEvidenceIdCharsMax,
  externalEvidencePayloadBytesMax,
  externalEvidencePerPluginMax,
  externalEvidenceProblem,
  type ExternalEvidence,
  type ReceivedEvidence,
  type RejectedEvidence,
  type SettlementEvidenceState,
} from './settlement/external-evidence';
export type { SettlementDeps } from './settlement/activities';
export type { SettlementResult, PluginOutcomeRecord } from './settlement/types';
export { ensureReconcileSchedule, reconcileScheduleId } from './reconcile/schedule';
export type { ReconcileInput, ReconcileResult } from './reconcile/workflows';
export type { DriftReport, ReconcileDeps } from './reconcile/activities';
export { ensureAllowanceSchedule, allowanceScheduleId } from './allowances/schedule';
export type { AllowanceRunInput, AllowanceRunResult } from './allowances/workflows';
export type { AllowanceCounts, AllowanceDeps } from './allowances/activities';
