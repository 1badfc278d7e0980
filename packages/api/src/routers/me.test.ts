import { TRPCError } from '@trpc/server';
import { amountMax } from '@tokenwise/core';
import { setGrantBounds } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsage, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

describe('me', () => {
  it('refuses a caller without a user as UNAUTHORIZED', async () => {
    const anonymous = await f.anonymous();
    await expect(anonymous.me.balances()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(anonymous.me.profile()).rejects.toBeInstanceOf(TRPCError);
  });

  it('profile names the caller and their roles', async () => {
    const me = await (await f.as(f.users.lead)).me.profile();
    expect(me).toEqual({
      userId: f.users.lead.id,
      orgId: f.org.id,
      teamId: f.teams.eng.id,
      roles: ['employee', 'lead'],
    });
  });

  it('balances show every currency, zero without a wallet, bigint amounts beyond 2^53', async () => {
    const wallet = await f.ledger.ensureAccount({
      ownerType: 'user',
      ownerId: f.users.employee.id,
      orgId: f.org.id,
      currency: 'innovation',
      purpose: 'wallet',
    });
    const big = 2n ** 60n + 7n;
    // Beyond the default grant bounds: the operator raised this org's.
    await setGrantBounds(f.db, {
      orgId: f.org.id,
      currency: 'innovation',
      bounds: { grantAmountMax: amountMax, monthlyIssuanceMax: amountMax },
      actor: 'test',
    });
    await f.ledger.grant({
      id: 'me-grant-1',
      to: wallet.id,
      currency: 'innovation',
      amount: big,
      actor: 'test',
      reason: 'test',
      orgId: f.org.id,
    });
    const balances = await (await f.as(f.users.employee)).me.balances();
    expect(balances.find((b) => b.currency === 'innovation')).toMatchObject({ available: big, posted: big, held: 0n });
    expect(balances.find((b) => b.currency === 'priority')).toMatchObject({ accountId: null, available: 0n });
  });

  it('recentUsage lists only the caller’s requests with cost, gCO2e and score', async () => {
    const mine = await insertUsage(f.db, { user: f.users.colleague, score: 0.75, cost: 2_345n });
    await insertUsage(f.db, { user: f.users.lead });
    const rows = await (await f.as(f.users.colleague)).me.recentUsage({ limit: 10 });
    expect(rows.map((row) => row.requestId)).toEqual([mine]);
    expect(rows[0]).toMatchObject({ cost: 2_345n, co2eMicrograms: 1_500_000n, co2eGrams: '1.500000', score: 0.75 });
    // The parts of the total, as stored (this row predates them: an operational-only methodology).
    expect(rows[0]).toMatchObject({
      operationalCo2eGrams: '0.000000',
      embodiedCo2eGrams: '0.000000',
      marketCo2eGrams: null,
      carbonMethodology: 'ecologits-0.11.3-operational-only',
      carbonAssumed: false,
    });
    expect(typeof rows[0]?.createdAt).toBe('string');
  });

  it('recentUsage refuses a page size beyond 100, naming the field', async () => {
    const error = await (await f.as(f.users.employee)).me.recentUsage({ limit: 101 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
