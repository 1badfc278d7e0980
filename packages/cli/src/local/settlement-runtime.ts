import { findOrgSlug, type Db } from '@tokenwise/db';
import { createRuntimeKeys } from '@tokenwise/control';
import type { Ledger } from '@tokenwise/ledger';
import {
  createGatewayLlmClient,
  createJsonLogger,
  createPluginContext,
  createSecrets,
  loadPlugins,
  orgSecretsFromEnv,
  type LlmPayer,
  type PluginContext,
  type PluginDefinition,
  type PluginSecrets,
} from '@tokenwise/plugin-sdk';
import { fileURLToPath } from 'node:url';

/** The workspace root, where plugins/* live. */
const workspaceDir = fileURLToPath(new URL('../../../../', import.meta.url));
/** Longest one metered LLM call of a plugin may take. */
const llmCallTimeoutMs = 120_000;

export interface SettlementRuntime {
  plugins: ReadonlyMap<string, PluginDefinition>;
  rejected: { source: string; reason: string }[];
  /** A plugin's context whose LLM calls go through the gateway, charged to `payer`, with the secrets of `payer.orgId` only. */
  contextFor: (pluginId: string, payer: LlmPayer) => Promise<PluginContext>;
  /** What in the TOKENWISE_SECRET_* variables shares nothing or is ignored (variable names, never values). */
  secretProblems: readonly string[];
  /** The secrets `orgId` may read (the GitHub relay reads each org's token here). */
  secretsFor: (orgId: string) => Promise<PluginSecrets>;
}

/**
 * Loads the workspace's plugins and gives each run a context whose LLM calls go through the gateway
 * like any request, under a key this process mints for the payer: the judge system key of the org
 * whose request is scored (its judge wallet pays; that usage is never settled), or the key of the
 * lead who dry-runs a plugin (their own wallet pays). Its secrets are the payer's org's own
 * (orgSecretsFromEnv, read from `env` once, here): a team's config names a secret, so reading another
 * org's would hand it that org's tokens. Secrets never leave this process's memory.
 */
export async function startSettlementRuntime(deps: {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  dataDir: string;
  gatewayUrl: string;
  /** Where the TOKENWISE_SECRET_* variables are read from, once; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
}): Promise<SettlementRuntime> {
  const secrets = orgSecretsFromEnv(deps.env ?? process.env);
  const { loaded, rejected } = await loadPlugins({ workspaceDir, allowNpm: false });
  const keys = createRuntimeKeys({ db: deps.db, pepper: deps.keyPepper, actor: 'system:settlement-runtime' });
  const llmFor = (payer: LlmPayer) =>
    createGatewayLlmClient({
      baseUrl: deps.gatewayUrl,
      apiKey: () => keys.keyFor(payer),
      onUnauthorized: () => keys.forget(payer),
      timeoutMs: llmCallTimeoutMs,
    });
  const secretsFor = async (orgId: string): Promise<PluginSecrets> => {
    const slug = await findOrgSlug(deps.db, { orgId });
    return slug === undefined ? createSecrets({}, `org ${orgId}, which does not exist`) : secrets.forOrg(slug);
  };
  return {
    plugins: new Map(loaded.map(({ plugin }) => [plugin.id, plugin])),
    rejected: rejected.map(({ source, reason }) => ({ source, reason })),
    secretProblems: secrets.problems,
    secretsFor,
    contextFor: async (pluginId, payer) =>
      createPluginContext({
        logger: createJsonLogger({ plugin: pluginId }),
        llm: llmFor(payer),
        secrets: await secretsFor(payer.orgId),
        fetchTimeoutMs: 10_000,
      }),
  };
}
