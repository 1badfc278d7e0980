import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { ensureTemporalTestServer } from '@tokenwise/devtools';
import { dataConverter } from './index';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

export interface TestTemporal {
  client: Client;
  workerConnection: NativeConnection;
  namespace: string;
  /** A task queue no other test file uses, so workers never steal each other's tasks. */
  taskQueue: string;
  close(): Promise<void>;
}

/** Connects a client and a worker connection to the run's Temporal dev server. */
export async function connectTestTemporal(): Promise<TestTemporal> {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const connection = await Connection.connect({ address });
  const workerConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace, dataConverter });
  return {
    client,
    workerConnection,
    namespace,
    taskQueue: `test-${randomBytes(4).toString('hex')}`,
    async close() {
      await connection.close();
      await workerConnection.close();
    },
  };
}

/**
 * The time-skipping test server (pinned from PyPI, provisioned by `npm test`), for workflows that
 * wait days: timers fire as soon as the workflow is otherwise idle.
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const server = await ensureTemporalTestServer();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: server.path } },
    client: { dataConverter },
  });
}
