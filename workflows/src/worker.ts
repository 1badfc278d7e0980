import { type NativeConnection, Worker } from '@temporalio/worker';
import type { Database } from '@tokenwise/db';
import { fileURLToPath } from 'node:url';
import { createAllowanceActivities, type AllowanceDeps } from './allowances/activities';
import { createCarbonRaiseActivities, type CarbonRaiseDeps } from './carbon-raise/activities';
import { createPlatformActivities } from './platform/activities';
import { createReconcileActivities, type ReconcileDeps } from './reconcile/activities';
import { createSettlementActivities, type SettlementDeps } from './settlement/activities';

/** The one task queue of the Tokenwise worker. */
export const taskQueue = 'tokenwise-settlement';

export const payloadConverterPath = fileURLToPath(new URL('./payload-converter.ts', import.meta.url));
export const workflowsPath = fileURLToPath(new URL('./workflows.ts', import.meta.url));

/** The data converter every client and worker of Tokenwise must share. */
export const dataConverter = { payloadConverterPath };

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  database: Database;
  taskQueue?: string;
  /** Ledger and plugins for settlements; without them the worker runs the platform check only. */
  settlement?: Omit<SettlementDeps, 'db'>;
  /** Client and the gateway's close function for the reconciliation schedule's activities. */
  reconcile?: Omit<ReconcileDeps, 'db'>;
  /** Ledger for the allowance schedule's grants; without it the worker runs no allowance activities. */
  allowances?: Omit<AllowanceDeps, 'db'>;
  /** Ledger for carbon raise approvals (an approval's grant); without it the worker runs no raise activities. */
  carbonRaises?: Omit<CarbonRaiseDeps, 'db'>;
  /** Workflows kept in memory between tasks (default 2,000); 0: every task replays its history, on no sticky queue. */
  maxCachedWorkflows?: number;
  /** After shutdown() the worker gives up on tasks still running (a local activity retrying) after this long; unset: it waits for them. */
  shutdownForceTimeMs?: number;
}

/** Creates the Tokenwise worker with real activities wired to the given dependencies. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue ?? taskQueue,
    workflowsPath,
    dataConverter,
    activities: {
      ...createPlatformActivities({ database: deps.database }),
      ...(deps.settlement === undefined
        ? {}
        : createSettlementActivities({ db: deps.database.db, ...deps.settlement })),
      ...(deps.reconcile === undefined ? {} : createReconcileActivities({ db: deps.database.db, ...deps.reconcile })),
      ...(deps.allowances === undefined ? {} : createAllowanceActivities({ db: deps.database.db, ...deps.allowances })),
      ...(deps.carbonRaises === undefined
        ? {}
        : createCarbonRaiseActivities({ db: deps.database.db, ...deps.carbonRaises })),
    },
    bundlerOptions: { ignoreModules: [] },
    // Settlements are many small workflows waiting on plugins: allow plenty in flight.
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 200,
    maxConcurrentLocalActivityExecutions: 200,
    maxCachedWorkflows: deps.maxCachedWorkflows ?? 2_000,
    ...(deps.shutdownForceTimeMs === undefined ? {} : { shutdownForceTime: deps.shutdownForceTimeMs }),
  });
}
