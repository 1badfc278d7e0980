export { createWorker, dataConverter, payloadConverterPath, taskQueue, workflowsPath, type WorkerDeps } from './worker';
export type { PlatformCheckInput, PlatformCheckResult } from './platform/workflows';
export { payloadConverter } from './payload-converter';
export { installTemporalRuntime } from './runtime';
