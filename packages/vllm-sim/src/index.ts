export {
  chatPromptTokensBound,
  messageText,
  renderChatTemplate,
  type ChatMessageInput,
  type RenderChatOptions,
} from './chat-template';
export {
  startVllmSimCluster,
  replicasPerModelMax,
  type SimClusterConfig,
  type SimClusterModel,
  type VllmSimCluster,
} from './cluster';
export { type SchedulingPolicy } from './engine';
export { type VllmErrorBody } from './errors';
export { type ResolvedFaults, type SimFaults } from './faults';
export { defaultLatency, type LatencyProfile } from './latency';
export { type FinishedReason, type MetricsSnapshot } from './metrics';
export { maxModelLenDefault, maxNumSeqsDefault, outputTokensDefault, type SimModelOptions } from './model-config';
export { requestBodyBytesMax, startVllmSim, type VllmSim, type VllmSimOptions } from './server';
export { codePointsPerTokenMax, countTokens, promptTokensBound, tokenize } from './tokenizer';
export { sampleJsonForSchema, type JsonValue } from './json-schema-sample';
