import type { PriceListInput } from '@tokenwise/core';
import { loadNewestPriceList, publishPriceList } from '@tokenwise/control';
import { startGateway, type RunningGateway } from '@tokenwise/gateway';
import { startInferenceCluster } from '../local/inference-cluster';
import type { Services } from '../services';
import type { Log, Stack } from './stack';

/** Hold expiry between reconciliation runs: releases lapsed holds every few seconds. */
const expirySweepIntervalMs = 5_000;
/** How long a stopping gateway waits for in-flight requests (streams included) before cutting them off. */
export const gatewayDrainMsMax = 50_000;
/** While draining, connections that went idle after their last response are closed this often. */
const idleCloseIntervalMs = 200;

/**
 * Releases lapsed holds. Expiry transfers have deterministic ids (`expire-<holdId>`), so several
 * gateways sweeping the same database release each hold once.
 */
function startExpirySweeper(services: Services): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(() => services.ledger.expireDue())
      .catch((error: unknown) =>
        process.stderr.write(`Hold expiry sweep failed (retrying): ${(error as Error).message}\n`),
      );
  }, expirySweepIntervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** The first price list, from the clusters' defaults, when none exists; a gateway starting at the same moment may win the race. */
async function ensurePriceList(services: Services, defaults: PriceListInput, actor: string, log: Log): Promise<void> {
  const { db } = services.database;
  if ((await loadNewestPriceList(db)) !== undefined) return;
  try {
    const published = await publishPriceList(db, { body: defaults, actor });
    log(
      `Prices: published a default price list (version ${published.version}) for ${Object.keys(defaults.models).join(', ')}.`,
    );
  } catch (error) {
    if ((await loadNewestPriceList(db)) === undefined) throw error;
  }
}

/** Stops accepting requests, lets in-flight ones finish (up to `gatewayDrainMsMax`), then closes the rest. */
async function drain(gateway: RunningGateway): Promise<void> {
  const idleCloser = setInterval(() => gateway.server.closeIdleConnections(), idleCloseIntervalMs);
  let deadline: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      gateway.close(),
      new Promise<void>((resolve) => {
        deadline = setTimeout(() => {
          process.stderr.write(
            `gateway: requests still in flight after ${gatewayDrainMsMax / 1000} s; closing their connections.\n`,
          );
          gateway.server.closeAllConnections();
          resolve();
        }, gatewayDrainMsMax);
      }),
    ]);
  } finally {
    clearInterval(idleCloser);
    clearTimeout(deadline);
  }
}

export interface GatewayStarterOptions {
  services: Services;
  clusters: { clustersFile: string | undefined; vllmUrl: string | undefined; priorityScheduling: boolean };
  port: number;
  host: string;
  /** Who publishes the default price list when none exists: `system:dev`, `system:gateway`. */
  actor: string;
  log: Log;
}

export interface GatewayStarted {
  gateway: RunningGateway;
  models: string[];
}

/** Inference clusters, the first price list, the gateway and the hold-expiry sweeper; each closer goes on the stack. */
export async function startGatewayService(stack: Stack, options: GatewayStarterOptions): Promise<GatewayStarted> {
  const { services, log } = options;
  const inference = await startInferenceCluster(options.clusters);
  stack.push('inference cluster', () => inference.close());
  await ensurePriceList(services, inference.defaultPrices, options.actor, log);
  const gateway = await startGateway({
    db: services.database.db,
    ledger: services.ledger,
    keyPepper: services.keyPepper,
    clusters: inference.clusters,
    port: options.port,
    host: options.host,
    log: (line) => process.stderr.write(`gateway: ${line}\n`),
  });
  stack.push('gateway', () => drain(gateway));
  const sweeper = startExpirySweeper(services);
  stack.push('hold expiry sweeper', () => sweeper.stop());
  log(`Gateway: ${gateway.url}/v1 (OpenAI-compatible) in front of ${inference.describe}.`);
  return { gateway, models: inference.clusters.flatMap((cluster) => cluster.models) };
}
