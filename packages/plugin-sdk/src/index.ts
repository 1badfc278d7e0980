export { SDK_VERSION, isCompatibleSdk, sdkIncompatibility } from './version';
export { isSemVer, parseSemVer, type SemVer } from './semver';
export {
  definePlugin,
  parsePluginConfig,
  pluginIdPattern,
  evidenceWindowSecondsMax,
  pollIntervalSecondsMin,
  pollIntervalSecondsMax,
  type PluginDefinition,
  type PluginSpec,
} from './define-plugin';
export {
  promptText,
  type ChatMessage,
  type ExternalEvidence,
  type ScoreCost,
  type RequestExperiment,
  type ScoreInput,
} from './score-input';
export { scoreInputOf, type StoredRequest } from './stored-request';
export {
  validateScoreResult,
  scoreResultSchema,
  evidenceBytesMax,
  evidenceKeysMax,
  evidenceKeyCharsMax,
  rationaleCharsMax,
  reasonCharsMax,
  type JsonObject,
  type JsonValue,
  type NotApplicableResult,
  type PendingResult,
  type ScoredResult,
  type ScoreResult,
} from './score-result';
export {
  createJsonLogger,
  createPluginContext,
  createSecrets,
  secretEnvPrefix,
  secretsFromEnv,
  systemClock,
  type Clock,
  type LlmPayer,
  type LogFields,
  type PluginContext,
  type PluginContextOptions,
  type PluginLogger,
  type PluginSecrets,
} from './context';
export { FetchTimeoutError, withTimeout, type FetchFn } from './fetch-with-timeout';
export {
  createGatewayLlmClient,
  LlmCallError,
  chatChoicesMax,
  chatResponseCharsMax,
  type ChatRequest,
  type ChatResponse,
  type GatewayLlmClientOptions,
  type LlmClient,
  type ResponseFormat,
} from './llm-client';
export {
  runPluginSafely,
  errorMessageCharsMax,
  runTimeoutMsMax,
  type PluginErrorKind,
  type PluginErrorResult,
  type PluginRunOutcome,
  type RunPluginOptions,
} from './run-plugin-safely';
export {
  loadPlugins,
  importTimeoutMsDefault,
  pluginDirsMax,
  type LoadedPlugin,
  type LoadPluginsOptions,
  type LoadPluginsResult,
  type RejectedPlugin,
} from './loader';
