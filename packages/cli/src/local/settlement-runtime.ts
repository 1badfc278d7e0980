import { createOrg, findOrgBySlug, type Db } from '@tokenwise/db';
import { createApiKey } from '@tokenwise/gateway';
import { type Ledger } from '@tokenwise/ledger';
import { createGatewayLlmClient, createJsonLogger, createPluginContext, loadPlugins, type PluginContext, type PluginDefinition } from '@tokenwise/plugin-sdk';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root, where plugins/* live. */
const workspaceDir = fileURLToPath(new URL('../../../../', import.meta.url));
/** Tokens the judge system account starts with on a fresh data dir (100 innovation tokens). */
const judgeStartingGrant = 100_000_000n;
const judgeKeyFile = 'judge-key';

export interface SettlementRuntime {
  plugins: ReadonlyMap<string, PluginDefinition>;
  rejected: { source: string; reason: string }[];
  contextFor: (pluginId: string) => PluginContext;
}

/**
 * The judge's own API key (a system key of the `tokenwise-system` org): its calls go through the
 * gateway like any request, charged to the `judge` system account and never settled themselves.
 */
async function judgeApiKey(deps: { db: Db; ledger: Ledger; keyPepper: Buffer; dataDir: string }): Promise<string> {
  const path = join(deps.dataDir, judgeKeyFile);
  const saved = await readFile(path, 'utf8').catch(() => undefined);
  if (saved !== undefined && saved.trim().startsWith('tw_')) return saved.trim();
  const org =
    (await findOrgBySlug(deps.db, { slug: 'tokenwise-system' })) ??
    (await createOrg(deps.db, { actor: 'system:dev', input: { slug: 'tokenwise-system', name: 'Tokenwise system accounts' } }).catch(async (error: unknown) => {
      // The api and the worker start together on a fresh database: the other one created it first.
      const created = await findOrgBySlug(deps.db, { slug: 'tokenwise-system' });
      if (created === undefined) throw error;
      return created;
    }));
  const { secret } = await createApiKey(deps.db, { pepper: deps.keyPepper, orgId: org.id, systemOwner: 'judge', name: 'llm-judge', actor: 'system:dev' });
  const wallet = await deps.ledger.ensureAccount({ ownerType: 'system', ownerId: 'judge', currency: 'innovation', purpose: 'wallet' });
  const source = await deps.ledger.ensureAccount({ ownerType: 'system', ownerId: 'issuance', currency: 'innovation', purpose: 'issuance' });
  await deps.ledger.submit([{ type: 'transfer', id: 'grant-judge-initial', debitAccountId: source.id, creditAccountId: wallet.id, amount: judgeStartingGrant, code: 'grant', userData: { reason: 'judge system account' } }]);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Loads the workspace's plugins and gives each a context whose LLM calls go through the gateway as judge usage. */
export async function startSettlementRuntime(deps: { db: Db; ledger: Ledger; keyPepper: Buffer; dataDir: string; gatewayUrl: string }): Promise<SettlementRuntime> {
  const { loaded, rejected } = await loadPlugins({ workspaceDir, allowNpm: false });
  const apiKey = await judgeApiKey(deps);
  const llm = createGatewayLlmClient({ baseUrl: deps.gatewayUrl, apiKey, timeoutMs: 120_000 });
  return {
    plugins: new Map(loaded.map(({ plugin }) => [plugin.id, plugin])),
    rejected: rejected.map(({ source, reason }) => ({ source, reason })),
    contextFor: (pluginId) => createPluginContext({ logger: createJsonLogger({ plugin: pluginId }), llm, fetchTimeoutMs: 10_000 }),
  };
}
