export { createWorker, dataConverter, payloadConverterPath, taskQueue, workflowsPath, type WorkerDeps } from './worker';
export type { PlatformCheckInput, PlatformCheckResult } from './platform/workflows';
export { payloadConverter } from './payload-converter';
export { installTemporalRuntime } from './runtime';
export { startOutboxRelay, settlementWorkflowId, relayBatchMax, type OutboxRelay } from './settlement/relay';
export { settlementStateQuery, type SettlementState } from './settlement/queries';
export type { SettlementDeps } from './settlement/activities';
export type { SettlementResult, PluginOutcomeRecord } from './settlement/types';
