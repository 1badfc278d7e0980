import type { Worker } from '@temporalio/worker';
import {
  createOrg,
  createUser,
  setAllowanceSchedule,
  setGrantBounds,
  setJudgeBudget,
  type Database,
} from '@tokenwise/db';
import { ledgerAccounts, ledgerTransfers } from '@tokenwise/db/schema';
import { createLedger, findAccount, judgeWalletKey, orgIssuanceKey, type Ledger } from '@tokenwise/ledger';
import { openTestDatabase } from '@tokenwise/db/testing';
import { connectTestTemporal, type TestTemporal } from '@tokenwise/workflows/testing';
import { and, eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../worker';
import { allowanceScheduleId, ensureAllowanceSchedule } from './schedule';
import type { AllowanceRunResult } from './workflows';

describe('scheduled monthly allowances on the Temporal dev server', () => {
  let database: Database;
  let ledger: Ledger;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let orgId: string;

  beforeAll(async () => {
    [database, temporal] = await Promise.all([openTestDatabase('pglite'), connectTestTemporal()]);
    ledger = createLedger({ db: database.db, hmacKey: randomBytes(32) });
    orgId = (await createOrg(database.db, { actor: 'test', input: { slug: 'allowances', name: 'Allowances' } })).id;
    worker = await createWorker({
      connection: temporal.workerConnection,
      namespace: temporal.namespace,
      database,
      taskQueue: temporal.taskQueue,
      allowances: { ledger },
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await ledger?.close();
    await temporal?.close();
    await database?.close();
  });

  const user = (email: string, roles: ('employee' | 'lead' | 'esg' | 'admin')[]) =>
    createUser(database.db, { actor: 'test', input: { orgId, email, displayName: email, roles } });
  /** Every allowance credited to the user's wallet in `currency`, as amounts. */
  const allowances = async (userId: string, currency: string): Promise<bigint[]> => {
    const rows = await database.db
      .select({ amount: ledgerTransfers.amount })
      .from(ledgerTransfers)
      .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerTransfers.creditAccountId))
      .where(
        and(
          eq(ledgerAccounts.ownerId, userId),
          eq(ledgerAccounts.currency, currency),
          eq(ledgerTransfers.code, 'allowance'),
        ),
      );
    return rows.map((row) => row.amount);
  };
  const run = (): Promise<AllowanceRunResult> =>
    temporal.client.workflow.execute('grantAllowances', {
      taskQueue: temporal.taskQueue,
      workflowId: `allowances-${Date.now()}`,
      args: [{ usersPerPage: 1 }],
    });
  /** A run that continues as new after every two pages, so its history never grows with the users. */
  const runContinuing = async (): Promise<{ result: AllowanceRunResult; firstRunStatus: string }> => {
    const handle = await temporal.client.workflow.start('grantAllowances', {
      taskQueue: temporal.taskQueue,
      workflowId: `allowances-continued-${Date.now()}`,
      args: [{ usersPerPage: 1, pagesPerRun: 2 }],
    });
    const result: AllowanceRunResult = await handle.result();
    const first = await temporal.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    return { result, firstRunStatus: first.status.name };
  };

  it('grants each role holder one allowance a month, nobody else; a later user gets theirs on the next run', async () => {
    await setAllowanceSchedule(database.db, {
      orgId,
      role: 'employee',
      currency: 'innovation',
      amount: 100n,
      actor: 'test',
    });
    await setAllowanceSchedule(database.db, { orgId, role: 'lead', currency: 'priority', amount: 20n, actor: 'test' });
    const alice = await user('alice@test.example', ['employee']);
    const bob = await user('bob@test.example', ['employee', 'lead']);
    const esg = await user('esg@test.example', ['esg']);

    // One user per page: the run walks both schedules page by page.
    expect(await run()).toEqual({ granted: 3, alreadyGranted: 0, conflicting: 0 });
    expect(await allowances(alice.id, 'innovation')).toEqual([100n]);
    expect(await allowances(alice.id, 'priority')).toEqual([]);
    expect(await allowances(bob.id, 'innovation')).toEqual([100n]);
    expect(await allowances(bob.id, 'priority')).toEqual([20n]);
    expect(await allowances(esg.id, 'innovation')).toEqual([]);
    expect(await allowances(esg.id, 'priority')).toEqual([]);

    expect(await run()).toEqual({ granted: 0, alreadyGranted: 3, conflicting: 0 });
    expect(await allowances(alice.id, 'innovation')).toEqual([100n]);
    expect(await allowances(bob.id, 'priority')).toEqual([20n]);

    const carol = await user('carol@test.example', ['employee']);
    expect(await run()).toEqual({ granted: 1, alreadyGranted: 3, conflicting: 0 });
    expect(await allowances(carol.id, 'innovation')).toEqual([100n]);
    expect(await allowances(alice.id, 'innovation')).toEqual([100n]);
  });

  it('a wallet already granted another amount this month is counted as conflicting and left alone', async () => {
    const dave = await user('dave@test.example', ['employee']);
    await setAllowanceSchedule(database.db, {
      orgId,
      role: 'employee',
      currency: 'innovation',
      amount: 150n,
      actor: 'test',
    });
    const result = await run();
    expect(result).toEqual({ granted: 1, alreadyGranted: 1, conflicting: 3 });
    expect(await allowances(dave.id, 'innovation')).toEqual([150n]);
    expect(await ledger.verify()).toMatchObject({ ok: true });
  });

  it('a run longer than its page budget continues as new and carries its totals and month over', async () => {
    // Four employees and one lead at one user a page: eight activity calls in all, two a run.
    const { result, firstRunStatus } = await runContinuing();
    expect(result).toEqual({ granted: 0, alreadyGranted: 2, conflicting: 3 });
    expect(firstRunStatus).toBe('CONTINUED_AS_NEW');
  });

  it("an org whose monthly grant bound is spent is refused the rest (counted, not retried), and no other org's allowances wait on it", async () => {
    const bounded = (await createOrg(database.db, { actor: 'test', input: { slug: 'bounded', name: 'Bounded' } })).id;
    await setGrantBounds(database.db, {
      orgId: bounded,
      currency: 'innovation',
      bounds: { grantAmountMax: 100n, monthlyIssuanceMax: 250n },
      actor: 'system:operator',
    });
    await setAllowanceSchedule(database.db, {
      orgId: bounded,
      role: 'employee',
      currency: 'innovation',
      amount: 100n,
      actor: 'test',
    });
    const users = await Promise.all(
      ['x', 'y', 'z'].map((name) =>
        createUser(database.db, {
          actor: 'test',
          input: { orgId: bounded, email: `${name}@bounded.example`, displayName: name },
        }),
      ),
    );
    const erin = await user('erin@test.example', ['employee']);
    const result = await run();
    expect(result).toMatchObject({ granted: 3, refused: 1 });
    const granted = await Promise.all(users.map((one) => allowances(one.id, 'innovation')));
    expect(granted.flat()).toEqual([100n, 100n]);
    expect(await allowances(erin.id, 'innovation')).toEqual([150n]);
  });

  it("funds each org's judge wallet with its monthly judge budget from that org's issuance, once a month", async () => {
    const judged = (await createOrg(database.db, { actor: 'test', input: { slug: 'judged', name: 'Judged' } })).id;
    await setJudgeBudget(database.db, { orgId: judged, currency: 'innovation', amount: 700n, actor: 'user:admin' });
    const first = await run();
    expect(first.granted).toBe(1);
    const wallet = await findAccount(database.db, judgeWalletKey({ orgId: judged, currency: 'innovation' }));
    expect((await ledger.balance(wallet?.id ?? '')).posted).toBe(700n);
    const issuance = await ledger.ensureAccount(orgIssuanceKey({ orgId: judged, currency: 'innovation' }));
    expect((await ledger.balance(issuance.id)).debitsPosted).toBe(700n);
    expect((await run()).granted).toBe(0);
    expect((await ledger.balance(wallet?.id ?? '')).posted).toBe(700n);
  });

  it('creates its Temporal Schedule once; a restart finds it there', async () => {
    const options = { taskQueue: temporal.taskQueue, every: '1 hour', input: { usersPerPage: 100 } };
    expect(await ensureAllowanceSchedule(temporal.client, options)).toBe('created');
    expect(await ensureAllowanceSchedule(temporal.client, options)).toBe('exists');
    const description = await temporal.client.schedule.getHandle(allowanceScheduleId).describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'grantAllowances' });
    expect(description.spec.intervals).toMatchObject([{ every: 3_600_000 }]);
    await temporal.client.schedule.getHandle(allowanceScheduleId).delete();
  });
});
