import type { Db } from '@tokenwise/db';

export const keyScopes = ['inference', 'api'] as const;
/** `inference`: the OpenAI-compatible gateway; `api`: the tRPC API; `experiments` (service keys only, never in this list a person picks from): experiments.* alone. */
export type KeyScope = (typeof keyScopes)[number] | 'experiments';

/** Who a request acts for and what it may do, resolved from its API key. */
export interface Principal {
  keyId: string;
  orgId: string;
  /** The employee billed; null for system keys. */
  userId: string | null;
  /** The user's team at authentication time. */
  teamId: string | null;
  /** For system keys: the system account owner id that pays (e.g. 'judge'). */
  systemOwner: string | null;
  scopes: readonly KeyScope[];
  /** null: every model. */
  allowedModels: readonly string[] | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** The org's setting: its low and normal priority requests prefer the cleanest cluster serving their model. */
  carbonAwareRouting: boolean;
}

export interface KeyStore {
  /**
   * The Authorization header value ("Bearer tw_<id>_<secret>") to a principal; throws
   * UnauthenticatedError whose message says what is wrong. Never puts the secret in a message.
   */
  authenticate(authorization: string | undefined): Promise<Principal>;
  close(): void;
}

export interface KeyStoreDeps {
  db: Db;
  pepper: Buffer;
  clock?: () => Date;
  /** How long a looked-up key row is trusted before it is read again; at most 1000 (revocation within 1 s). */
  cacheTtlMs?: number;
}

/** An API key as shown to people and other code: never its secret or HMAC. */
export interface ApiKeyInfo {
  id: string;
  orgId: string;
  userId: string | null;
  systemOwner: string | null;
  name: string;
  scopes: KeyScope[];
  allowedModels: string[] | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  replacedBy: string | null;
  /** The key that created this one through the API; null when an admin created it with the CLI. */
  createdByKeyId: string | null;
  createdAt: Date;
}
