import type { Db } from '@tokenwise/db';
import { createRuntimeKeys } from '@tokenwise/control';
import type { Ledger } from '@tokenwise/ledger';
import {
  createGatewayLlmClient,
  createJsonLogger,
  createPluginContext,
  loadPlugins,
  secretsFromEnv,
  type LlmPayer,
  type PluginContext,
  type PluginDefinition,
} from '@tokenwise/plugin-sdk';
import { fileURLToPath } from 'node:url';

/** The workspace root, where plugins/* live. */
const workspaceDir = fileURLToPath(new URL('../../../../', import.meta.url));
/** Longest one metered LLM call of a plugin may take. */
const llmCallTimeoutMs = 120_000;

export interface SettlementRuntime {
  plugins: ReadonlyMap<string, PluginDefinition>;
  rejected: { source: string; reason: string }[];
  /** A plugin's context whose LLM calls go through the gateway, charged to `payer`. */
  contextFor: (pluginId: string, payer: LlmPayer) => PluginContext;
  /** The plugins' named secrets, from TOKENWISE_SECRET_<NAME> (the GitHub relay reads its tokens here too). */
  secrets: Readonly<Record<string, string>>;
}

/**
 * Loads the workspace's plugins and gives each run a context whose LLM calls go through the gateway
 * like any request, under a key this process mints for the payer: the judge system key of the org
 * whose request is scored (its judge wallet pays; that usage is never settled), or the key of the
 * lead who dry-runs a plugin (their own wallet pays). Secrets never leave this process's memory.
 */
export async function startSettlementRuntime(deps: {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  dataDir: string;
  gatewayUrl: string;
}): Promise<SettlementRuntime> {
  const secrets = secretsFromEnv(process.env);
  const { loaded, rejected } = await loadPlugins({ workspaceDir, allowNpm: false });
  const keys = createRuntimeKeys({ db: deps.db, pepper: deps.keyPepper, actor: 'system:settlement-runtime' });
  const llmFor = (payer: LlmPayer) =>
    createGatewayLlmClient({
      baseUrl: deps.gatewayUrl,
      apiKey: () => keys.keyFor(payer),
      onUnauthorized: () => keys.forget(payer),
      timeoutMs: llmCallTimeoutMs,
    });
  return {
    plugins: new Map(loaded.map(({ plugin }) => [plugin.id, plugin])),
    rejected: rejected.map(({ source, reason }) => ({ source, reason })),
    secrets,
    contextFor: (pluginId, payer) =>
      createPluginContext({
        logger: createJsonLogger({ plugin: pluginId }),
        llm: llmFor(payer),
        secrets,
        fetchTimeoutMs: 10_000,
      }),
  };
}
