import type { PriceListInput } from '@tokenwise/core';
import { createOrg, createUser, type Database } from '@tokenwise/db';
import { createLedger, type Ledger } from '@tokenwise/ledger';
import { startVllmSim, type VllmSim, type VllmSimOptions } from '@tokenwise/vllm-sim';
import { randomBytes, randomUUID } from 'node:crypto';
import { createApiKey, publishPriceList } from '@tokenwise/control';
import { testPriceList } from '@tokenwise/control/testing';
import { startGateway, type RunningGateway } from './gateway';
import type { ClusterConfig } from './routing/index';
import type { GatewaySettingsInput } from './settings';

export const testModel = 'sim-llama-8b';

export { testPriceList };

export interface GatewayWorld {
  ledger: Ledger;
  sims: VllmSim[];
  gateway: RunningGateway;
  orgId: string;
  /** The API key pepper the gateway checks secrets under (for tests that create keys themselves). */
  keyPepper: Buffer;
  /** Creates a user with a funded wallet and an inference key; returns the key, its id and wallet ids. */
  user(
    funds: { innovation?: bigint; priority?: bigint },
    keyOptions?: { allowedModels?: string[]; teamId?: string },
  ): Promise<{ apiKey: string; keyId: string; userId: string; wallets: Record<string, string> }>;
  close(): Promise<void>;
}

/** A whole request path on loopback: ledger on `database`, vllm-sim replicas, the gateway in front. */
export async function startGatewayWorld(
  database: Database,
  options: {
    replicas?: number;
    sim?: Partial<VllmSimOptions>;
    cluster?: Partial<ClusterConfig>;
    settings?: GatewaySettingsInput;
    priceList?: PriceListInput;
  } = {},
): Promise<GatewayWorld> {
  const db = database.db;
  const ledger = createLedger({ db, hmacKey: randomBytes(32) });
  const pepper = randomBytes(32);
  const sims = await Promise.all(
    Array.from({ length: options.replicas ?? 1 }, (_, index) =>
      startVllmSim({
        model: testModel,
        seed: index,
        latency: { ttftMs: 5, tpotMs: 1 },
        outputTokens: { min: 8, max: 24 },
        ...options.sim,
      }),
    ),
  );
  await publishPriceList(db, { body: options.priceList ?? testPriceList(), actor: 'test' });
  const gateway = await startGateway({
    db,
    ledger,
    keyPepper: pepper,
    clusters: [
      {
        name: 'test-cluster',
        models: [testModel],
        replicas: sims.map((sim, index) => ({ id: `replica-${index}`, url: sim.url })),
        maxConcurrencyPerReplica: 64,
        priorityScheduling: false,
        queueDepthMax: 1_000,
        queueWaitMsMax: 30_000,
        region: 'eu-west',
        gridIntensityGCo2ePerKwh: 300,
        ...options.cluster,
      },
    ],
    settings: { completionTokensCap: 64, ...options.settings },
    healthCheckIntervalMs: 200,
    log: () => {},
  });
  const org = await createOrg(db, {
    actor: 'test',
    input: { slug: `org-${randomUUID().slice(0, 8)}`, name: 'Test org' },
  });
  const issuance = async (currency: string) =>
    (await ledger.ensureAccount({ ownerType: 'system', ownerId: 'issuance', currency, purpose: 'issuance' })).id;
  return {
    ledger,
    sims,
    gateway,
    orgId: org.id,
    keyPepper: pepper,
    async user(funds, keyOptions = {}) {
      const user = await createUser(db, {
        actor: 'test',
        input: {
          orgId: org.id,
          email: `${randomUUID().slice(0, 8)}@test.example`,
          displayName: 'Tester',
          ...(keyOptions.teamId === undefined ? {} : { teamId: keyOptions.teamId }),
        },
      });
      const wallets: Record<string, string> = {};
      for (const [currency, amount] of Object.entries(funds)) {
        const wallet = await ledger.ensureAccount({
          ownerType: 'user',
          ownerId: user.id,
          orgId: org.id,
          currency,
          purpose: 'wallet',
        });
        wallets[currency] = wallet.id;
        if (amount > 0n)
          await ledger.submit([
            {
              type: 'transfer',
              id: `fund-${wallet.id}`,
              debitAccountId: await issuance(currency),
              creditAccountId: wallet.id,
              amount,
              code: 'grant',
            },
          ]);
      }
      const { key, secret } = await createApiKey(db, {
        pepper,
        orgId: org.id,
        userId: user.id,
        name: 'test key',
        allowedModels: keyOptions.allowedModels ?? null,
        actor: 'test',
      });
      return { apiKey: secret, keyId: key.id, userId: user.id, wallets };
    },
    async close() {
      await gateway.close();
      await Promise.all(sims.map((sim) => sim.close()));
      await ledger.close();
    },
  };
}

/**
 * The charge commits right after the answer is sent (off the client's critical path), so a test
 * that reads the ledger after a response waits for the request's usage row first.
 */
export async function waitForUsageRows(
  database: Database,
  where: { requestId?: string; userId?: string },
  count = 1,
): Promise<void> {
  const { usageRecords } = await import('@tokenwise/db/schema');
  const { eq } = await import('drizzle-orm');
  const condition =
    where.requestId !== undefined
      ? eq(usageRecords.requestId, where.requestId)
      : eq(usageRecords.userId, where.userId ?? '');
  for (let attempt = 0; attempt < 400; attempt++) {
    const rows = await database.db.select({ requestId: usageRecords.requestId }).from(usageRecords).where(condition);
    if (rows.length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`usage rows for ${JSON.stringify(where)} did not reach ${count}`);
}

/** A loopback proxy in front of a model server that records the bodies the gateway forwards. */
export interface RecordingProxy {
  url: string;
  /** Where requests go (set once the model server is up). */
  target: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const { createServer, request } = await import('node:http');
  const proxy: RecordingProxy = { url: '', target: '', bodies: [], close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.method === 'POST') proxy.bodies.push(JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
      const upstream = request(
        `${proxy.target}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
