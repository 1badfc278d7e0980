import { carbonPeriodOf, ConflictError, type CarbonScope } from '@tokenwise/core';
import { createOrg, createUser, findCarbonRaise, publishCarbonCap, type User } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { carbonBudgetKey, createLedger, type Ledger } from '@tokenwise/ledger';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decideRaise, requestRaise, type RaiseActor } from './raises';

/** Raises decided at once by every officer. */
const raisesAtOnce = 8;
/** ESG officers racing on each raise. */
const officersRacing = 4;

describeEachBackend('officers deciding the same raises at once', (database) => {
  let ledger: Ledger;
  let employee: User;
  let officers: User[];
  let orgId: string;
  const actor = (user: User): RaiseActor => ({ userId: user.id, orgId: user.orgId, teamId: null, roles: user.roles });

  beforeAll(async () => {
    const db = database().db;
    ledger = createLedger({ db, hmacKey: randomBytes(32) });
    const org = await createOrg(db, {
      actor: 'test',
      input: { slug: `race-${randomBytes(3).toString('hex')}`, name: 'Race' },
    });
    orgId = org.id;
    const person = (email: string, roles: User['roles']) =>
      createUser(db, { actor: 'test', input: { orgId, email, displayName: email, roles } });
    employee = await person('emma@race.test', ['employee']);
    officers = [];
    for (let index = 0; index < officersRacing; index++) officers.push(await person(`esg${index}@race.test`, ['esg']));
    await publishCarbonCap(db, {
      orgId,
      scope: 'user',
      scopeId: employee.id,
      period: 'month',
      hardMicrograms: 1_000_000n,
      softPercent: null,
      actor: 'test',
    });
  });
  afterAll(async () => {
    await ledger?.close();
  });

  const budget = async (scope: CarbonScope, scopeId: string) => {
    const period = carbonPeriodOf(new Date(), 'UTC', 'month');
    const account = await ledger.ensureAccount(carbonBudgetKey({ orgId, scope, scopeId, period }));
    return (await ledger.balance(account.id)).posted;
  };

  it('exactly one decision per raise wins, the others are CONFLICT naming the winner, and each grant lands once', async () => {
    const db = database().db;
    const raiseIds: string[] = [];
    for (let index = 0; index < raisesAtOnce; index++)
      raiseIds.push(
        (await requestRaise(db, actor(employee), { scope: 'user', grams: 10, reason: `job ${index}` })).raiseId,
      );
    const before = await budget('user', employee.id);

    const outcomes = await Promise.all(
      raiseIds.flatMap((raiseId) =>
        officers.map((officer, index) =>
          decideRaise({ db, ledger }, actor(officer), {
            raiseId,
            decision: index % 2 === 0 ? 'approve' : 'deny',
            grams: index % 2 === 0 ? index + 1 : undefined,
          }).then(
            (raise) => ({ raiseId, won: raise }),
            (error: unknown) => ({ raiseId, lost: error }),
          ),
        ),
      ),
    );

    let granted = 0n;
    for (const raiseId of raiseIds) {
      const mine = outcomes.filter((outcome) => outcome.raiseId === raiseId);
      const winners = mine.flatMap((outcome) => ('won' in outcome ? [outcome.won] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0];
      const stored = await findCarbonRaise(db, { raiseId });
      expect(stored).toMatchObject({ state: winner?.state, decidedBy: winner?.decidedBy });
      const winnerEmail = officers.find((officer) => officer.id === winner?.decidedBy)?.email ?? 'nobody';
      for (const outcome of mine)
        if ('lost' in outcome) {
          expect(outcome.lost).toBeInstanceOf(ConflictError);
          expect((outcome.lost as Error).message).toContain(winnerEmail);
        }
      granted += stored?.grantedMicrograms ?? 0n;
    }
    expect((await budget('user', employee.id)) - before).toBe(granted);
  });
});
