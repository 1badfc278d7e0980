import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createWorker, dataConverter, ensureReconcileSchedule, installTemporalRuntime, reconcileScheduleId, startOutboxRelay, taskQueue, type PlatformCheckResult } from '@tokenwise/workflows';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { freePort } from '../local/free-port';
import { ensureTemporalCli } from '../local/provision';
import { startTemporalDevServer } from '../local/temporal-server';
import { closeAbandonedAdmissions, gatewaySettingsSchema, holdTimeoutSeconds, loadNewestPriceList, publishPriceList, startGateway } from '@tokenwise/gateway';
import { startControlServer } from '../control/control-server';
import { startInferenceCluster } from '../local/inference-cluster';
import { seedDemo, type DevFile } from '../local/demo-seed';
import { startApiServer } from '@tokenwise/api';
import { startSettlementRuntime } from '../local/settlement-runtime';
import { removeRunInfo, writeRunInfo } from '../run-file';
import { openServices, type Services } from '../services';

const log = (line: string) => process.stdout.write(`${line}\n`);

/** Closes what was started, newest first, even when one step fails. */
class Stack {
  private readonly closers: { name: string; close: () => Promise<unknown> }[] = [];
  push(name: string, close: () => Promise<unknown>): void {
    this.closers.push({ name, close });
  }
  async closeAll(): Promise<void> {
    for (const { name, close } of this.closers.reverse()) {
      try {
        await close();
      } catch (error) {
        process.stderr.write(`Stopping ${name} failed: ${(error as Error).message}\n`);
      }
    }
  }
}

async function preferredPort(port: number): Promise<number> {
  if (port === 0) return freePort();
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(freePort()));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

/** A request older than its hold's lifetime is certainly over: reconciliation may close it. */
const holdTimeoutSecondsDefault = holdTimeoutSeconds(gatewaySettingsSchema.parse({}));

/** Hold expiry between reconciliation runs: releases lapsed holds every few seconds. */
const expirySweepIntervalMs = 5_000;

function startExpirySweeper(services: Services): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(() => services.ledger.expireDue())
      .catch((error: unknown) => process.stderr.write(`Hold expiry sweep failed (retrying): ${(error as Error).message}\n`));
  }, expirySweepIntervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** The "try it" block: a curl command and an openai snippet with a real demo key, runnable as printed. */
export function tryIt(devFile: DevFile): string[] {
  const user = devFile.users.find((entry) => entry.roles.includes('employee')) ?? devFile.users[0];
  const model = devFile.models[0];
  if (user === undefined || model === undefined) return ['No demo user or model to try: see dev.json.'];
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] });
  const snippet = [
    "import OpenAI from 'openai';",
    `const client = new OpenAI({ baseURL: '${devFile.gatewayUrl}', apiKey: '${user.apiKey}' });`,
    `const reply = await client.chat.completions.create({ model: '${model}', messages: [{ role: 'user', content: 'Hello' }] });`,
    'console.log(reply.choices[0].message.content);',
  ].join(' ');
  return [
    `Try it as ${user.email} (every demo user's key is in dev.json), in another terminal:`,
    `  curl ${devFile.gatewayUrl}/chat/completions -H 'Authorization: Bearer ${user.apiKey}' -H 'content-type: application/json' -d '${body}'`,
    '  With the openai package, from the repository directory (where it is installed):',
    `  node --input-type=module -e "${snippet}"`,
    `  Then: npx tokenwise balance --org demo --user ${user.email}   and   npx tokenwise usage --org demo`,
  ];
}

/** `tokenwise dev` (npm start): database, Temporal, worker on this machine until Ctrl-C. */
export async function runDev(): Promise<number> {
  const config = loadConfig();
  installTemporalRuntime(process.env.TEMPORAL_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN');
  await mkdir(config.dataDir, { recursive: true });
  const stack = new Stack();
  try {
    const services = await openServices(config);
    stack.push('database and ledger', () => services.close());
    const { database } = services;
    log(`Database: ${database.backend} at ${database.location}, migrations applied.`);
    log(`Ledger: journal HMAC key ${config.ledgerKey ? 'from TOKENWISE_LEDGER_KEY' : `in ${config.ledgerKeyPath}`}, checkpoints exported to ${config.ledgerCheckpointPath}.`);
    const sweeper = startExpirySweeper(services);
    stack.push('hold expiry sweeper', () => sweeper.stop());
    const control = await startControlServer(services);
    stack.push('control endpoint', () => control.close());

    const inference = await startInferenceCluster({ clustersFile: config.clustersFile, vllmUrl: config.vllmUrl, priorityScheduling: config.vllmPriorityScheduling });
    stack.push('inference cluster', () => inference.close());
    if ((await loadNewestPriceList(database.db)) === undefined) {
      const published = await publishPriceList(database.db, { body: inference.defaultPrices, actor: 'system:dev' });
      log(`Prices: published a default price list (version ${published.version}) for ${Object.keys(inference.defaultPrices.models).join(', ')}.`);
    }
    const gateway = await startGateway({
      db: database.db,
      ledger: services.ledger,
      keyPepper: services.keyPepper,
      clusters: inference.clusters,
      port: await preferredPort(config.gatewayPort),
      log: (line) => process.stderr.write(`gateway: ${line}\n`),
    });
    stack.push('gateway', () => gateway.close());
    log(`Gateway: ${gateway.url}/v1 (OpenAI-compatible) in front of ${inference.describe}.`);

    let address = config.temporalAddress;
    let uiUrl: string | undefined;
    if (address === undefined) {
      const cli = await ensureTemporalCli({ log });
      const server = await startTemporalDevServer({
        cliPath: cli.path,
        dbFilename: join(config.dataDir, 'temporal.db'),
        uiPort: await preferredPort(config.temporalUiPort),
        namespace: config.temporalNamespace,
      });
      stack.push('Temporal dev server', () => server.stop());
      address = server.address;
      uiUrl = server.uiUrl;
    }
    log(`Temporal: ${address} (namespace ${config.temporalNamespace})${uiUrl ? `, UI ${uiUrl}` : ''}`);
    const models = inference.clusters.flatMap((cluster) => cluster.models);
    const api = await startApiServer({ db: database.db, ledger: services.ledger, keyPepper: services.keyPepper, port: await preferredPort(config.gatewayPort === 0 ? 0 : config.gatewayPort + 1) });
    stack.push('API', () => api.close());
    log(`API: ${api.url} (tRPC; typed client: createApiClient from @tokenwise/api).`);
    const demo = await seedDemo({ db: database.db, ledger: services.ledger, keyPepper: services.keyPepper, dataDir: config.dataDir, gatewayUrl: `${gateway.url}/v1`, apiUrl: api.url, temporalUiUrl: uiUrl ?? null, models });
    log(`Demo org: ${demo.seeded ? 'seeded' : 'already seeded'} (org demo, ${demo.devFile.users.length} users); URLs and API keys in ${demo.path}.`);

    const connection = await Connection.connect({ address });
    stack.push('client connection', () => connection.close());
    const client = new Client({ connection, namespace: config.temporalNamespace, dataConverter });
    const settlement = await startSettlementRuntime({ db: database.db, ledger: services.ledger, keyPepper: services.keyPepper, dataDir: config.dataDir, gatewayUrl: gateway.url });
    log(`Scoring plugins: ${[...settlement.plugins.keys()].join(', ') || 'none'}${settlement.rejected.length > 0 ? `; rejected: ${settlement.rejected.map((entry) => `${entry.source} (${entry.reason})`).join('; ')}` : ''}.`);
    const workerConnection = await NativeConnection.connect({ address });
    stack.push('worker connection', () => workerConnection.close());
    const worker = await createWorker({
      connection: workerConnection,
      namespace: config.temporalNamespace,
      database,
      settlement: { ledger: services.ledger, plugins: settlement.plugins, contextFor: settlement.contextFor, pluginTimeoutMs: 120_000 },
      reconcile: {
        ledger: services.ledger,
        client,
        taskQueue,
        closeAbandonedAdmissions: (olderThan) => closeAbandonedAdmissions({ db: database.db, ledger: services.ledger }, { olderThan, limit: 200 }),
      },
    });
    const workerRun = worker.run();
    stack.push('worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun;
    });

    const relay = startOutboxRelay({ db: database.db, client, taskQueue });
    stack.push('outbox relay', () => relay.stop());
    const reconcile = await ensureReconcileSchedule(client, {
      taskQueue,
      every: '5 minutes',
      input: { abandonedAfterMs: holdTimeoutSecondsDefault * 1000, unsettledAfterMs: 8 * 24 * 3600 * 1000 },
    });
    log(`Reconciliation: Temporal Schedule ${reconcileScheduleId} every 5 minutes (${reconcile === 'created' ? 'created' : 'already there'}).`);
    const check: PlatformCheckResult = await client.workflow.execute('platformCheck', {
      taskQueue,
      workflowId: `platform-check-${Date.now()}`,
      args: [{ amount: 1n }],
      workflowExecutionTimeout: '30 seconds',
    });
    log(`Worker: task queue ${taskQueue}, platform check passed (${check.migrationsApplied} migrations on ${check.backend}).`);

    await writeRunInfo(config.dataDir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      temporalAddress: address,
      temporalNamespace: config.temporalNamespace,
      temporalUiUrl: uiUrl,
      database: database.location,
      control: { url: control.url, token: control.token },
    });
    stack.push('run file', () => removeRunInfo(config.dataDir));
    log('\nTokenwise is running: database, ledger, gateway, tRPC API, Temporal, the worker and the settlement relay (the Slack bot comes later).');
    for (const line of tryIt(demo.devFile)) log(line);
    log('Press Ctrl-C to stop.');

    await Promise.race([
      workerRun,
      new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      }),
    ]);
    log('\nStopping...');
    return 0;
  } finally {
    await stack.closeAll();
  }
}
