export { startGateway, type GatewayOptions, type RunningGateway } from './gateway';
export * from './routing/index';
export {
  gatewayNodeFlags,
  gatewaySettingsSchema,
  holdTimeoutSeconds,
  ledgerBatchIntervalMs,
  type GatewaySettings,
  type GatewaySettingsInput,
} from './settings';
export { createRateLimiter, RateLimitedError, rateLimitKeysMax, type RateLimiter } from './rate-limiter';
