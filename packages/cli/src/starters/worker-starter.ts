import { Client } from '@temporalio/client';
import { closeAbandonedAdmissions, holdTimeoutSecondsDefault } from '@tokenwise/control';
import {
  allowanceScheduleId,
  createWorker,
  dataConverter,
  ensureAllowanceSchedule,
  ensureReconcileSchedule,
  reconcileScheduleId,
  startCarbonRaiseRelay,
  startExperimentsRelay,
  startGithubRelay,
  startOutboxRelay,
  taskQueue,
  type PlatformCheckResult,
} from '@tokenwise/workflows';
import { startSettlementRuntime, type SettlementRuntime } from '../local/settlement-runtime';
import type { Services } from '../services';
import { connectTemporal } from './temporal-connection';
import type { Log, Stack } from './stack';

/** A request older than its hold's lifetime is certainly over: reconciliation may close it. */
/** Usage still unsettled after this long is re-driven by reconciliation. */
const unsettledAfterMs = 8 * 24 * 3600 * 1000;
/** Users granted their monthly allowance per activity call of the allowance schedule. */
const allowanceUsersPerPage = 100;
/** Each plugin's score() is cut off after this long. */
const pluginTimeoutMs = 120_000;
/**
 * A stopping worker waits this long for its tasks, then gives up on them (Temporal retries them on
 * another worker): a local activity in a retry loop must not keep SIGTERM from ending the process.
 */
export const workerStopMsMax = 15_000;

export interface WorkerStarterOptions {
  services: Services;
  temporalAddress: string;
  temporalNamespace: string;
  /** Base URL (no /v1) of a gateway, through which the judge plugin's LLM calls go. */
  gatewayUrl: string;
  dataDir: string;
  log: Log;
  /** Aborts the wait for a Temporal server that is not up yet. */
  signal?: AbortSignal;
  /** The scoring plugins, when this process loaded them already (dev shares them with the API); else loaded here. */
  settlement?: SettlementRuntime;
}

/** The workspace's scoring plugins, their LLM calls going through the gateway as judge usage; logs which loaded. */
export async function loadScoringPlugins(options: {
  services: Services;
  gatewayUrl: string;
  dataDir: string;
  log: Log;
  /** Where plugin secrets (TOKENWISE_SECRET_*) are read, once; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
}): Promise<SettlementRuntime> {
  const { services } = options;
  const settlement = await startSettlementRuntime({
    db: services.database.db,
    ledger: services.ledger,
    keyPepper: services.keyPepper,
    dataDir: options.dataDir,
    gatewayUrl: options.gatewayUrl,
    env: options.env,
  });
  const rejected = settlement.rejected.map((entry) => `${entry.source} (${entry.reason})`).join('; ');
  options.log(
    `Scoring plugins: ${[...settlement.plugins.keys()].join(', ') || 'none'}${rejected === '' ? '' : `; rejected: ${rejected}`}.`,
  );
  // Variable names only, never values: `tokenwise doctor` lists the same with which org reads what.
  for (const problem of settlement.secretProblems) options.log(`Plugin secrets: ${problem}`);
  return settlement;
}

export interface WorkerStarted {
  client: Client;
  settlement: SettlementRuntime;
  /** Settles when the worker stops; rejects when it fails. */
  running: Promise<void>;
}

/** Temporal worker, scoring plugins, outbox relays (settlements, carbon raises, experiments, GitHub evidence), reconcile and allowance Schedules and a platform check; each closer goes on the stack. */
export async function startWorkerService(stack: Stack, options: WorkerStarterOptions): Promise<WorkerStarted> {
  const { services, log } = options;
  const { database, ledger } = services;
  const { connection, workerConnection } = await connectTemporal({
    address: options.temporalAddress,
    log,
    signal: options.signal,
  });
  stack.push('client connection', () => connection.close());
  stack.push('worker connection', () => workerConnection.close());
  const client = new Client({ connection, namespace: options.temporalNamespace, dataConverter });
  const settlement =
    options.settlement ??
    (await loadScoringPlugins({ services, gatewayUrl: options.gatewayUrl, dataDir: options.dataDir, log }));
  const worker = await createWorker({
    connection: workerConnection,
    namespace: options.temporalNamespace,
    database,
    shutdownForceTimeMs: workerStopMsMax,
    settlement: { ledger, plugins: settlement.plugins, contextFor: settlement.contextFor, pluginTimeoutMs },
    reconcile: {
      ledger,
      client,
      taskQueue,
      closeAbandonedAdmissions: (olderThan) =>
        closeAbandonedAdmissions({ db: database.db, ledger }, { olderThan, limit: 200 }),
    },
    allowances: { ledger },
    carbonRaises: { ledger },
  });
  const running = worker.run();
  stack.push('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });

  const relay = startOutboxRelay({ db: database.db, client, taskQueue });
  stack.push('outbox relay', () => relay.stop());
  const carbonRaiseRelay = startCarbonRaiseRelay({ db: database.db, client, taskQueue });
  stack.push('carbon raise relay', () => carbonRaiseRelay.stop());
  const experimentsRelay = startExperimentsRelay({ db: database.db, client });
  stack.push('experiments relay', () => experimentsRelay.stop());
  const githubRelay = startGithubRelay({
    db: database.db,
    client,
    secretsFor: settlement.secretsFor,
  });
  stack.push('github relay', () => githubRelay.stop());
  const reconcile = await ensureReconcileSchedule(client, {
    taskQueue,
    every: '5 minutes',
    input: { abandonedAfterMs: holdTimeoutSecondsDefault * 1000, unsettledAfterMs },
  });
  log(
    `Reconciliation: Temporal Schedule ${reconcileScheduleId} every 5 minutes (${reconcile === 'created' ? 'created' : 'already there'}).`,
  );
  // Hourly, so a new user gets this month's allowance within the hour; the ledger grants it once a month.
  const allowances = await ensureAllowanceSchedule(client, {
    taskQueue,
    every: '1 hour',
    input: { usersPerPage: allowanceUsersPerPage },
  });
  log(
    `Allowances: Temporal Schedule ${allowanceScheduleId} every hour (${allowances === 'created' ? 'created' : 'already there'}).`,
  );
  const check: PlatformCheckResult = await client.workflow.execute('platformCheck', {
    taskQueue,
    workflowId: `platform-check-${Date.now()}`,
    args: [{ amount: 1n }],
    workflowExecutionTimeout: '30 seconds',
  });
  log(
    `Worker: task queue ${taskQueue}, platform check passed (${check.migrationsApplied} migrations on ${check.backend}).`,
  );
  return { client, settlement, running };
}
