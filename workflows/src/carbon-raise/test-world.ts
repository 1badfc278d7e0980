import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { RaiseActor } from '@tokenwise/control';
import { carbonPeriodOf, type CarbonScope } from '@tokenwise/core';
import { createOrg, createUser, publishCarbonCap, type Database, type User } from '@tokenwise/db';
import { notifications, outbox } from '@tokenwise/db/schema';
import { carbonBudgetKey, createLedger, type Ledger } from '@tokenwise/ledger';
import { and, eq, like } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { createWorker } from '../worker';

/** Where the raise tests' org lives: a zone whose months start an hour before UTC's. */
export const raiseTimeZone = 'Europe/Berlin';

/** An org with a capped employee, two ESG officers and a ledger, on an open database. */
export async function seedRaiseWorld(database: Database) {
  const db = database.db;
  const suffix = randomBytes(3).toString('hex');
  const ledger = createLedger({ db, hmacKey: randomBytes(32) });
  const org = await createOrg(db, {
    actor: 'test',
    input: { slug: `raise-${suffix}`, name: 'Raise Co', timeZone: raiseTimeZone },
  });
  const person = (email: string, roles: User['roles']) =>
    createUser(db, {
      actor: 'test',
      input: { orgId: org.id, email, displayName: email.split('@')[0] ?? email, roles },
    });
  const employee = await person('emil@raise.test', ['employee']);
  const esg = await person('esther@raise.test', ['esg']);
  const esg2 = await person('sven@raise.test', ['esg']);
  await publishCarbonCap(db, {
    orgId: org.id,
    scope: 'user',
    scopeId: employee.id,
    period: 'month',
    hardMicrograms: 1_000_000_000n,
    softPercent: null,
    actor: 'test',
  });
  const actor = (user: User): RaiseActor => ({
    userId: user.id,
    orgId: user.orgId,
    teamId: user.teamId,
    roles: user.roles,
  });
  return { db, ledger, org, employee, esg, esg2, actor };
}

export type RaiseWorld = Awaited<ReturnType<typeof seedRaiseWorld>>;

/** What the scope's budget of the current month (in the world's zone) holds, posted. */
export async function budgetOf(
  world: RaiseWorld,
  scope: CarbonScope,
  scopeId: string,
  at: Date = new Date(),
): Promise<bigint> {
  const period = carbonPeriodOf(at, raiseTimeZone, 'month');
  const account = await world.ledger.ensureAccount(carbonBudgetKey({ orgId: world.org.id, scope, scopeId, period }));
  return (await world.ledger.balance(account.id)).posted;
}

/** The raise's notifications, oldest first. */
export function raiseNotifications(world: RaiseWorld, raiseId: string) {
  return world.db
    .select({ userId: notifications.userId, kind: notifications.kind, payload: notifications.payload })
    .from(notifications)
    .where(like(notifications.dedupeKey, `carbon-raise-%-${raiseId}%`))
    .orderBy(notifications.id);
}

/** Whether the raise's outbox row of `kind` was handed to Temporal. */
export async function outboxDelivered(world: RaiseWorld, raiseId: string, kind: string): Promise<boolean> {
  const [row] = await world.db
    .select({ deliveredAt: outbox.deliveredAt })
    .from(outbox)
    .where(and(eq(outbox.requestId, raiseId), eq(outbox.kind, kind)));
  return row?.deliveredAt !== null && row?.deliveredAt !== undefined;
}

/** A worker running the raise activities on the time-skipping environment. */
export async function startRaiseWorker(
  env: TestWorkflowEnvironment,
  database: Database,
  ledger: Ledger,
  taskQueue: string,
): Promise<{ worker: Worker; running: Promise<void>; stop(): Promise<void> }> {
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    database,
    taskQueue,
    carbonRaises: { ledger },
    // No cache: every workflow task replays the history (a replay check of each step), and a stopped
    // worker leaves no sticky queue behind that the time-skipping server would never time out.
    maxCachedWorkflows: 0,
  });
  const running = worker.run();
  return {
    worker,
    running,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
