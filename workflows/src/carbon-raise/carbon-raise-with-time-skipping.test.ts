import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { decideRaise, requestRaise } from '@tokenwise/control';
import { carbonPeriodBounds, carbonPeriodOf, nextCarbonPeriod } from '@tokenwise/core';
import { findCarbonRaise, type Database } from '@tokenwise/db';
import { openTestDatabase } from '@tokenwise/db/testing';
import { createTimeSkippingEnvironment } from '@tokenwise/workflows/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../settlement/test-world';
import type { OutboxRelay } from '../relay-loop';
import { dataConverter } from '../worker';
import { startCarbonRaiseRelay } from './relay';
import {
  carbonRaiseDecidedSignal,
  carbonRaisePhaseQuery,
  carbonRaiseWorkflowId,
  type CarbonRaiseResult,
} from './signals';
import {
  budgetOf,
  outboxDelivered,
  raiseNotifications,
  raiseTimeZone,
  seedRaiseWorld,
  startRaiseWorker,
  type RaiseWorld,
} from './test-world';

const dayMs = 24 * 3600 * 1000;
const taskQueue = 'carbon-raise-time-skipping';

describe('the carbon raise approval workflow, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let database: Database;
  let world: RaiseWorld;
  let worker: Awaited<ReturnType<typeof startRaiseWorker>>;
  let relay: OutboxRelay;
  /**
   * A client that never unlocks time skipping: awaiting a result with env.client lets the server
   * skip time freely (years, once nothing is pending), so tests move time only with env.sleep.
   */
  let client: Client;
  /** The server's clock: raises and decisions are dated by it, so deadlines and periods agree with the workflow's. */
  const serverNow = async () => new Date(await env.currentTimeMs());

  beforeAll(async () => {
    [env, database] = await Promise.all([createTimeSkippingEnvironment(), openTestDatabase('pglite')]);
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter });
    world = await seedRaiseWorld(database);
    worker = await startRaiseWorker(env, database, world.ledger, taskQueue);
    relay = startCarbonRaiseRelay({ db: world.db, client, taskQueue, intervalMs: 50, log: () => {} });
  });
  afterAll(async () => {
    await relay?.stop();
    await worker?.stop();
    await world?.ledger.close();
    await env?.teardown();
    await database?.close();
  });

  /** A raise the employee asked for, its workflow started by the relay and waiting with the officers notified. */
  async function waitingRaise(grams: number, extra: { until?: string } = {}) {
    const { raiseId } = await requestRaise(world.db, world.actor(world.employee), {
      scope: 'user',
      grams,
      reason: 'month-end batch evaluation',
      now: await serverNow(),
      ...extra,
    });
    const handle = client.workflow.getHandle(carbonRaiseWorkflowId(raiseId));
    await until(
      async () => ((await raiseNotifications(world, raiseId)).length === 2 ? true : undefined),
      'the officers to be notified',
    );
    await until(async () => ((await handle.query(carbonRaisePhaseQuery)) === 'waiting' ? true : undefined), 'waiting');
    return { raiseId, handle };
  }

  /** Decides through the domain (as the API does), then waits for the relay to signal the decision. */
  async function decide(raiseId: string, decision: 'approve' | 'deny', grams?: number) {
    const decided = await decideRaise({ db: world.db, ledger: world.ledger }, world.actor(world.esg), {
      raiseId,
      decision,
      grams,
      now: await serverNow(),
    });
    await until(
      async () => ((await outboxDelivered(world, raiseId, 'carbon_raise_decided')) ? true : undefined),
      'the relay to signal the decision',
    );
    return decided;
  }

  it('approves: officers notified once each, the grant in the budget once, the requester told', async () => {
    const before = await budgetOf(world, 'user', world.employee.id, await serverNow());
    const { raiseId, handle } = await waitingRaise(100);
    const startedMs = await env.currentTimeMs();
    await decide(raiseId, 'approve');
    const result = (await handle.result()) as CarbonRaiseResult;

    expect(result).toEqual({ raiseId, state: 'approved', decidedBy: world.esg.id, grantedMicrograms: 100_000_000n });
    // Decided by the signal, not by the deadline.
    expect((await env.currentTimeMs()) - startedMs).toBeLessThan(dayMs);
    expect((await budgetOf(world, 'user', world.employee.id, await serverNow())) - before).toBe(100_000_000n);
    const sent = await raiseNotifications(world, raiseId);
    expect(sent.slice(0, 2).map((row) => [row.kind, row.userId])).toEqual(
      expect.arrayContaining([
        ['carbon_raise_requested', world.esg.id],
        ['carbon_raise_requested', world.esg2.id],
      ]),
    );
    expect(sent.slice(2).map((row) => [row.kind, row.userId])).toEqual([['carbon_raise_decided', world.employee.id]]);
    expect(sent.at(-1)?.payload).toMatchObject({ state: 'approved', grantedGrams: 100, requestedGrams: 100 });
  });

  it('approves part of what was asked: the budget grows by the granted grams only', async () => {
    const before = await budgetOf(world, 'user', world.employee.id, await serverNow());
    const { raiseId, handle } = await waitingRaise(80);
    await decide(raiseId, 'approve', 20.5);
    expect(await handle.result()).toMatchObject({ state: 'approved', grantedMicrograms: 20_500_000n });
    expect((await budgetOf(world, 'user', world.employee.id, await serverNow())) - before).toBe(20_500_000n);
  });

  it('denies: nothing granted, the requester told it was denied', async () => {
    const before = await budgetOf(world, 'user', world.employee.id, await serverNow());
    const { raiseId, handle } = await waitingRaise(50);
    await decide(raiseId, 'deny');
    expect(await handle.result()).toEqual({
      raiseId,
      state: 'denied',
      decidedBy: world.esg.id,
      grantedMicrograms: null,
    });
    expect(await budgetOf(world, 'user', world.employee.id, await serverNow())).toBe(before);
    expect((await raiseNotifications(world, raiseId)).at(-1)).toMatchObject({
      kind: 'carbon_raise_decided',
      userId: world.employee.id,
      payload: { state: 'denied' },
    });
  });

  it('denies a raise nobody decided at its 3-day deadline, saying so', async () => {
    const { raiseId, handle } = await waitingRaise(10);
    const startedMs = await env.currentTimeMs();
    await env.sleep(3 * dayMs - 60_000);
    expect(await handle.query(carbonRaisePhaseQuery)).toBe('waiting');
    await env.sleep(2 * 60_000);
    expect(await handle.result()).toEqual({ raiseId, state: 'denied', decidedBy: 'deadline', grantedMicrograms: null });
    expect((await env.currentTimeMs()) - startedMs).toBeGreaterThanOrEqual(3 * dayMs - 60_000);
    const row = await findCarbonRaise(world.db, { raiseId });
    expect(row).toMatchObject({ state: 'denied', decidedBy: 'deadline', note: 'No ESG officer decided within 3 days' });
    expect((await raiseNotifications(world, raiseId)).at(-1)).toMatchObject({
      kind: 'carbon_raise_decided',
      payload: { state: 'denied', decidedBy: 'deadline', note: 'No ESG officer decided within 3 days' },
    });
    // Too late for an officer now: the deadline decided first.
    await expect(
      decideRaise({ db: world.db, ledger: world.ledger }, world.actor(world.esg), {
        raiseId,
        decision: 'approve',
        now: await serverNow(),
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already denied by its deadline/) });
  });

  it('two officers deciding at once: exactly one wins, the other gets CONFLICT naming the winner, one grant', async () => {
    const before = await budgetOf(world, 'user', world.employee.id, await serverNow());
    const { raiseId, handle } = await waitingRaise(60);
    // A stray signal while nothing is decided changes nothing: the workflow keeps waiting.
    await handle.signal(carbonRaiseDecidedSignal, { raiseId });
    await until(async () => ((await handle.query(carbonRaisePhaseQuery)) === 'waiting' ? true : undefined), 'waiting');
    const deps = { db: world.db, ledger: world.ledger };
    const outcomes = await Promise.allSettled([
      decideRaise(deps, world.actor(world.esg), { raiseId, decision: 'approve', grams: 60, now: await serverNow() }),
      decideRaise(deps, world.actor(world.esg2), { raiseId, decision: 'approve', grams: 30, now: await serverNow() }),
    ]);
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = won[0]?.value;
    const winnerEmail = winner?.decidedBy === world.esg.id ? world.esg.email : world.esg2.email;
    expect(lost[0]?.reason).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(winnerEmail) });
    await until(
      async () => ((await outboxDelivered(world, raiseId, 'carbon_raise_decided')) ? true : undefined),
      'the relay to signal the decision',
    );
    const result = (await handle.result()) as CarbonRaiseResult;
    expect(result.decidedBy).toBe(winner?.decidedBy);
    expect((await budgetOf(world, 'user', world.employee.id, await serverNow())) - before).toBe(
      result.grantedMicrograms,
    );
    // A duplicate decision afterwards changes nothing either.
    await expect(decideRaise(deps, world.actor(world.esg), { raiseId, decision: 'deny' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect((await budgetOf(world, 'user', world.employee.id, await serverNow())) - before).toBe(
      result.grantedMicrograms,
    );
  });

  it('an approved until raise ends at the close of its last period', async () => {
    const now = await serverNow();
    const nextMonth = nextCarbonPeriod(carbonPeriodOf(now, raiseTimeZone, 'month'));
    const untilDate = `${nextMonth}-15`;
    const { raiseId, handle } = await waitingRaise(5, { until: untilDate });
    await decide(raiseId, 'approve');
    const endsAt = carbonPeriodBounds(nextMonth, raiseTimeZone).end;
    await until(
      async () => ((await handle.query(carbonRaisePhaseQuery)) === 'running-until' ? true : undefined),
      'run',
    );
    expect((await findCarbonRaise(world.db, { raiseId }))?.endedAt).toBeNull();
    await env.sleep(endsAt.getTime() - (await env.currentTimeMs()) + 60_000);
    const result = (await handle.result()) as CarbonRaiseResult;
    expect(result.endedAt).toBe(endsAt.toISOString());
    expect(await findCarbonRaise(world.db, { raiseId })).toMatchObject({
      state: 'approved',
      until: untilDate,
      grantedPeriod: carbonPeriodOf(now, raiseTimeZone, 'month'),
      endedAt: endsAt,
    });
  });

  it('a worker stopped while the workflow waits: a new worker picks it up and the decision completes it', async () => {
    const { raiseId, handle } = await waitingRaise(25);
    await worker.stop();
    worker = await startRaiseWorker(env, database, world.ledger, taskQueue);
    await decide(raiseId, 'approve');
    expect(await handle.result()).toMatchObject({
      state: 'approved',
      decidedBy: world.esg.id,
    });
  });
});
