export { keyScopes, type ApiKeyInfo, type KeyScope, type KeyStore, type KeyStoreDeps, type Principal } from './types';
export {
  createApiKey,
  createApiKeyInput,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  type CreateApiKeyParams,
} from './api-keys';
export {
  createDerivedApiKey,
  createSelfServiceApiKey,
  revokeApiKeyCascade,
  selfServiceKeyDaysMax,
  type CreateDerivedApiKeyParams,
} from './derived-keys';
export { deriveKeyFields, type CreatorBounds, type DerivedKeyFields, type DerivedKeyRequest } from './key-derivation';
export { createKeyStore, parseAuthorization } from './key-store';
export { createRuntimeKeys, judgeSystemOwner, type RuntimeKeyPayer, type RuntimeKeys } from './runtime-keys';
export { pepperBytesMin } from './key-format';
export * from './limits';
