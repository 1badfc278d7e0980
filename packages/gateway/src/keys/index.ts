export { keyScopes, type ApiKeyInfo, type KeyScope, type KeyStore, type KeyStoreDeps, type Principal } from './types';
export { createApiKey, createApiKeyInput, listApiKeys, revokeApiKey, rotateApiKey, type CreateApiKeyParams } from './api-keys';
export { createKeyStore, parseAuthorization } from './key-store';
export { createRuntimeKeys, type RuntimeKeyPayer, type RuntimeKeys } from './runtime-keys';
export { createRateLimiter, RateLimitedError, type RateLimiter } from './rate-limiter';
export { pepperBytesMin } from './key-format';
export * from './limits';
