import { ForbiddenError, UnauthenticatedError, type DomainError } from '@tokenwise/core';
import { findUserAccess, type Db } from '@tokenwise/db';
import type { Role } from '@tokenwise/db/schema';
import {
  createKeyStore,
  experimentsScope,
  type ExperimentsService,
  type GithubConfig,
  type KeyStore,
} from '@tokenwise/control';
import type { Ledger } from '@tokenwise/ledger';
import type { LlmPayer, PluginContext, PluginDefinition } from '@tokenwise/plugin-sdk';
import type { IncomingMessage } from 'node:http';

/** Who is calling: a user of one org, with the roles the users table gives them now. */
export interface ApiUser {
  userId: string;
  orgId: string;
  teamId: string | null;
  roles: readonly Role[];
}

/** The scoring plugins this server may describe and dry-run: the settlement runtime's shape. */
export interface PluginRegistry {
  plugins: ReadonlyMap<string, PluginDefinition>;
  /**
   * The context a plugin runs with; its LLM client is metered, so judge calls are real usage, charged
   * to `payer`, and its secrets are those of `payer.orgId`.
   */
  contextFor: (pluginId: string, payer: LlmPayer) => PluginContext | Promise<PluginContext>;
  /** How long one dry run may take before it is reported as a timeout; defaults to dryRunTimeoutMsDefault. */
  dryRunTimeoutMs?: number;
  /** Milliseconds since the epoch, for the per-user dry-run rate limit; Date.now by default (tests step it). */
  clock?: () => number;
}

export interface ApiDeps {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  /** Absent when the server was started without scoring plugins: the plugins router then refuses. */
  plugins?: PluginRegistry;
  /** How long ESG officers have to decide a carbon raise before its workflow denies it; 3 days when absent. */
  carbonRaiseDeadlineMs?: number;
  /** GitHub settings (githubConfigFromEnv): login linking needs its OAuth client id, the webhook receiver its secret. */
  github?: GithubConfig;
}

export interface Context extends ApiDeps {
  user: ApiUser | null;
  /** A service key with the experiments scope (no user behind it): experiments.* accept it and nothing else. */
  service: ExperimentsService | null;
  /** The API key this call authenticated with; null for in-process callers (tests), which then create no keys for themselves. */
  keyId: string | null;
  /** Why there is no user (bad key, missing scope); authedProcedure reports it. */
  authFailure: DomainError | null;
  /**
   * Set by an in-process caller that verified the user another way (the Slack bot, by email): they
   * may then create their own inference key without a key to derive it from (keys.create).
   */
  selfServiceKeys: boolean;
}

/** The context without HTTP: tests pass the user they act as. */
export async function createContextInner(
  deps: ApiDeps & {
    user?: ApiUser | null;
    service?: ExperimentsService | null;
    keyId?: string | null;
    authFailure?: DomainError | null;
    selfServiceKeys?: boolean;
  },
): Promise<Context> {
  const user = deps.user ?? null;
  const service = user === null ? (deps.service ?? null) : null;
  return {
    db: deps.db,
    ledger: deps.ledger,
    keyPepper: deps.keyPepper,
    plugins: deps.plugins,
    carbonRaiseDeadlineMs: deps.carbonRaiseDeadlineMs,
    github: deps.github,
    user,
    service,
    keyId: user === null ? (service?.keyId ?? null) : (deps.keyId ?? null),
    authFailure:
      deps.authFailure ??
      (service === null
        ? null
        : new ForbiddenError(
            `API key ${service.keyId} is a service key with the experiments scope: it may call experiments.* only.`,
          )),
    selfServiceKeys: user !== null && deps.selfServiceKeys === true,
  };
}

/** The user behind a key, with roles and team read from the users table (not the key's cache). */
export async function loadApiUser(db: Db, params: { userId: string; orgId: string }): Promise<ApiUser | undefined> {
  return findUserAccess(db, params);
}

async function authenticate(
  deps: ApiDeps,
  keyStore: KeyStore,
  authorization: string | undefined,
): Promise<{ user: ApiUser; keyId: string } | { service: ExperimentsService }> {
  const principal = await keyStore.authenticate(authorization);
  if (principal.scopes.includes(experimentsScope))
    return { service: { keyId: principal.keyId, orgId: principal.orgId } };
  if (!principal.scopes.includes('api'))
    throw new ForbiddenError(
      `API key ${principal.keyId} lacks the 'api' scope: ask an admin for a key with scope api.`,
    );
  if (principal.userId === null)
    throw new ForbiddenError(`API key ${principal.keyId} belongs to a system account: the API serves people.`);
  const user = await loadApiUser(deps.db, { userId: principal.userId, orgId: principal.orgId });
  if (user === undefined) throw new UnauthenticatedError(`The user of API key ${principal.keyId} no longer exists.`);
  return { user, keyId: principal.keyId };
}

/** The HTTP context factory: authenticates `Authorization: Bearer tw_...` keys with the 'api' scope. */
export function createContextFactory(deps: ApiDeps & { keyStore?: KeyStore }) {
  const keyStore = deps.keyStore ?? createKeyStore({ db: deps.db, pepper: deps.keyPepper });
  async function createContext({ req }: { req: IncomingMessage }): Promise<Context> {
    const header = req.headers.authorization;
    if (header === undefined) return createContextInner(deps);
    try {
      return await createContextInner({ ...deps, ...(await authenticate(deps, keyStore, header)) });
    } catch (error) {
      if (error instanceof UnauthenticatedError || error instanceof ForbiddenError)
        return createContextInner({ ...deps, authFailure: error });
      throw error;
    }
  }
  return { createContext, close: () => keyStore.close() };
}
