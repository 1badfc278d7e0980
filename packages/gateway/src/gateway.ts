import type { Db } from '@tokenwise/db';
import type { Ledger } from '@tokenwise/ledger';
import type { Server } from 'node:http';
import { createKeyStore, createPriceListSource, registerClusters } from '@tokenwise/control';
import { createRateLimiter } from './rate-limiter';
import { createCarbonBudgets } from './carbon-budgets';
import { EarlyForwarding } from './early-forwarding';
import { GatewayMetrics } from './metrics';
import { createPayerAccounts } from './payer-accounts';
import { createRouter, type CheckedRouter, type ClusterConfig } from './routing/index';
import { startClusterSync, type ClusterSync } from './routing/cluster-sync';
import { createGatewayServer } from './server';
import { gatewaySettingsSchema, type GatewaySettingsInput } from './settings';
import { UpstreamPools } from './upstream-pools';
import { createSettlementVersionsLookup } from './policy-versions';

export interface GatewayOptions {
  db: Db;
  ledger: Ledger;
  /** Server-side pepper of the API key HMACs. */
  keyPepper: Buffer;
  clusters: ClusterConfig[];
  settings?: GatewaySettingsInput;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  healthCheckIntervalMs?: number;
  /** Stores `clusters` in the database at start (default true), so the API lists them and operators can change them. */
  registerClusters?: boolean;
  /** How often operator changes to the clusters reach this gateway; default 2000. */
  clusterSyncIntervalMs?: number;
  /** How long an org's carbon caps are served from memory before a background reread; default 2000. */
  carbonRefreshMs?: number;
  log?: (line: string) => void;
}

export interface RunningGateway {
  /** Base URL; the OpenAI-compatible API is under `${url}/v1`. */
  url: string;
  port: number;
  server: Server;
  metrics: GatewayMetrics;
  close(): Promise<void>;
}

/** Registers the configured clusters and applies operator-set coefficients before the first request. */
async function syncClusters(
  options: GatewayOptions,
  router: CheckedRouter,
  log: (line: string) => void,
): Promise<ClusterSync> {
  if (options.registerClusters !== false)
    await registerClusters(options.db, { clusters: options.clusters, actor: 'system:gateway' });
  const clusterSync = startClusterSync({ db: options.db, router, intervalMs: options.clusterSyncIntervalMs, log });
  try {
    await clusterSync.syncNow();
  } catch (error) {
    await clusterSync.stop();
    throw error;
  }
  return clusterSync;
}

/** Wires keys, router, price lists, ledger and metering into the HTTP server and starts listening. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const settings = gatewaySettingsSchema.parse(options.settings ?? {});
  const log = options.log ?? ((line: string) => process.stderr.write(`gateway: ${line}\n`));
  const keys = createKeyStore({ db: options.db, pepper: options.keyPepper });
  const router = createRouter({ clusters: options.clusters, healthCheckIntervalMs: options.healthCheckIntervalMs });
  const clusterSync = await syncClusters(options, router, log).catch(async (error: unknown) => {
    await router.close();
    keys.close();
    throw error;
  });
  const priceLists = createPriceListSource(options.db);
  const pools = new UpstreamPools();
  const metrics = new GatewayMetrics();
  const server = createGatewayServer({
    db: options.db,
    ledger: options.ledger,
    auth: keys,
    router,
    limiter: createRateLimiter(),
    priceLists,
    accounts: createPayerAccounts(options.ledger),
    pools,
    settings,
    metrics,
    earlyForwarding: new EarlyForwarding(settings.forwardWhileHoldCommits),
    carbonBudgets: createCarbonBudgets({
      db: options.db,
      ledger: options.ledger,
      refreshMs: options.carbonRefreshMs,
      log,
    }),
    log,
    settlementVersionsOf: createSettlementVersionsLookup(options.db),
    queueDepths: () => Object.fromEntries(router.models().map((model) => [model, router.queueDepth(model)])),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    server,
    metrics,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await clusterSync.stop();
      await router.close();
      await pools.close();
      keys.close();
      priceLists.close();
    },
  };
}
