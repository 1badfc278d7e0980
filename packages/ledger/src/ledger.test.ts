import { ForbiddenError, IdempotencyConflictError, InsufficientFundsError } from '@tokenwise/core';
import { createOrg } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger, type Ledger } from './ledger';

export const testKey = randomBytes(32);

describeEachBackend('ledger', (database) => {
  let now = new Date('2026-11-26T12:00:00Z');
  let ledger: Ledger;
  let orgId: string;
  const wallet = async () =>
    (
      await ensureAccount(
        database().db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet', orgId },
        testKey,
      )
    ).id;
  const funded = async (amount: bigint) => {
    const id = await wallet();
    await ledger.grant({
      id: `grant-${id}`,
      to: id,
      currency: 'innovation',
      amount,
      actor: 'user:admin',
      reason: 'test',
      orgId,
    });
    return id;
  };

  beforeAll(async () => {
    orgId = await createOrgFor(database().db);
    ledger = createLedger({ db: database().db, hmacKey: testKey, clock: () => now });
    return () => ledger.close();
  });

  it('grants tokens into a wallet and shows them as available', async () => {
    const id = await funded(1_000n);
    expect(await ledger.balance(id)).toMatchObject({ posted: 1_000n, available: 1_000n, debitsPending: 0n });
  });

  it('holds, then posts less than held: the remainder returns and consumption gets the charge', async () => {
    const id = await funded(1_000n);
    const sink = await consumptionAccount(database().db, 'innovation', testKey);
    const sinkBefore = (await ledger.balance(sink.id)).posted;
    await ledger.hold({ id: `hold-${id}`, from: id, currency: 'innovation', amount: 600n, timeoutSeconds: 60 });
    expect(await ledger.balance(id)).toMatchObject({ available: 400n, debitsPending: 600n });
    const [posted] = await ledger.submit([{ type: 'post', id: `post-${id}`, pendingId: `hold-${id}`, amount: 250n }]);
    expect(await ledger.balance(id)).toMatchObject({ posted: 750n, available: 750n, debitsPending: 0n });
    // The op's result says what the wallet has left and has spent, with no read.
    expect(posted).toMatchObject({ ok: true, duplicate: false, debitAvailable: 750n, debitPosted: 250n });
    expect((await ledger.balance(sink.id)).posted - sinkBefore).toBe(250n);
  });

  it('refuses a hold beyond the balance, saying what was needed and what is available', async () => {
    const id = await funded(100n);
    await expect(
      ledger.hold({ id: `big-${id}`, from: id, currency: 'innovation', amount: 101n, timeoutSeconds: 60 }),
    ).rejects.toThrow(InsufficientFundsError);
    await expect(
      ledger.hold({ id: `big2-${id}`, from: id, currency: 'innovation', amount: 101n, timeoutSeconds: 60 }),
    ).rejects.toThrow('Insufficient funds: 101 needed, 100 available in innovation.');
    expect(await ledger.balance(id)).toMatchObject({ available: 100n });
  });

  it('voids a hold, releasing all of it, and refuses to post or void it again', async () => {
    const id = await funded(300n);
    await ledger.hold({ id: `h-${id}`, from: id, currency: 'innovation', amount: 300n, timeoutSeconds: 60 });
    await ledger.execute({ type: 'void', id: `v-${id}`, pendingId: `h-${id}` });
    expect(await ledger.balance(id)).toMatchObject({ available: 300n, debitsPending: 0n });
    const [again, post] = await ledger.submit([
      { type: 'void', id: `v2-${id}`, pendingId: `h-${id}` },
      { type: 'post', id: `p-${id}`, pendingId: `h-${id}` },
    ]);
    expect(again).toMatchObject({ ok: false, code: 'pending_already_voided' });
    expect(post).toMatchObject({ ok: false, code: 'pending_already_voided' });
  });

  it('refuses to post more than was held', async () => {
    const id = await funded(300n);
    await ledger.hold({ id: `h-${id}`, from: id, currency: 'innovation', amount: 100n, timeoutSeconds: 60 });
    const [result] = await ledger.submit([{ type: 'post', id: `p-${id}`, pendingId: `h-${id}`, amount: 101n }]);
    expect(result).toMatchObject({
      ok: false,
      code: 'exceeds_pending_amount',
      message: 'Cannot post 101: the pending transfer holds only 100.',
    });
  });

  it('answers a retry with the same body with the first result, and a different body with a conflict', async () => {
    const id = await funded(1_000n);
    const first = await ledger.hold({
      id: `r-${id}`,
      from: id,
      currency: 'innovation',
      amount: 10n,
      timeoutSeconds: 60,
    });
    now = new Date(now.getTime() + 5_000);
    const retry = await ledger.hold({
      id: `r-${id}`,
      from: id,
      currency: 'innovation',
      amount: 10n,
      timeoutSeconds: 60,
    });
    expect(retry).toEqual({ transfer: first.transfer, duplicate: true });
    await expect(
      ledger.hold({ id: `r-${id}`, from: id, currency: 'innovation', amount: 11n, timeoutSeconds: 60 }),
    ).rejects.toThrow(IdempotencyConflictError);
    expect(await ledger.balance(id)).toMatchObject({ debitsPending: 10n });
    // Retries inside one batch are recognised too.
    const results = await ledger.submit([
      { type: 'transfer', id: `t-${id}`, debitAccountId: id, creditAccountId: await wallet(), amount: 1n, code: 'x' },
      { type: 'post', id: `p-${id}`, pendingId: `r-${id}` },
      { type: 'post', id: `p-${id}`, pendingId: `r-${id}` },
    ]);
    expect(results.map((result) => (result.ok ? result.duplicate : result.code))).toEqual([
      'peer_transfers_not_allowed',
      false,
      true,
    ]);
  });

  it('releases an expired hold exactly once, and a late post is refused', async () => {
    const id = await funded(500n);
    await ledger.hold({ id: `e1-${id}`, from: id, currency: 'innovation', amount: 200n, timeoutSeconds: 30 });
    await ledger.hold({ id: `e2-${id}`, from: id, currency: 'innovation', amount: 100n, timeoutSeconds: 30 });
    now = new Date(now.getTime() + 31_000);
    const [late] = await ledger.submit([{ type: 'post', id: `late-${id}`, pendingId: `e1-${id}` }]);
    expect(late).toMatchObject({ ok: false, code: 'pending_expired' });
    expect(await ledger.balance(id)).toMatchObject({ available: 400n, debitsPending: 100n });
    const released = await ledger.expireDue();
    expect(released).toBeGreaterThanOrEqual(1);
    expect(await ledger.expireDue()).toBe(0);
    expect(await ledger.balance(id)).toMatchObject({ available: 500n, debitsPending: 0n, posted: 500n });
  });

  it('applies a linked chain all or nothing', async () => {
    const a = await funded(100n);
    const b = await funded(100n);
    const sink = await consumptionAccount(database().db, 'innovation', testKey);
    const results = await ledger.submit([
      {
        type: 'transfer',
        id: `l1-${a}`,
        debitAccountId: a,
        creditAccountId: sink.id,
        amount: 50n,
        code: 'charge',
        linked: true,
      },
      { type: 'transfer', id: `l2-${b}`, debitAccountId: b, creditAccountId: sink.id, amount: 150n, code: 'charge' },
      { type: 'transfer', id: `l3-${a}`, debitAccountId: a, creditAccountId: sink.id, amount: 10n, code: 'charge' },
    ]);
    expect(results.map((result) => (result.ok ? 'ok' : result.code))).toEqual([
      'linked_event_failed',
      'insufficient_funds',
      'ok',
    ]);
    expect((await ledger.balance(a)).available).toBe(90n);
    expect((await ledger.balance(b)).available).toBe(100n);
  });

  it('grants a monthly allowance once per month in the org time zone', async () => {
    const id = await wallet();
    const jan31InUtc = new Date('2026-01-31T23:30:00Z');
    const tokyo = await ledger.grantAllowance({
      to: id,
      currency: 'innovation',
      amount: 70n,
      at: jan31InUtc,
      timeZone: 'Asia/Tokyo',
      actor: 'system:allowance',
      orgId,
    });
    expect(tokyo.period).toBe('2026-02');
    const rerun = await ledger.grantAllowance({
      to: id,
      currency: 'innovation',
      amount: 70n,
      at: new Date('2026-02-10T00:00:00Z'),
      timeZone: 'Asia/Tokyo',
      actor: 'system:allowance',
      orgId,
    });
    expect(rerun).toMatchObject({ duplicate: true, period: '2026-02' });
    expect((await ledger.balance(id)).posted).toBe(70n);
  });

  it('refuses employee-to-employee transfers unless the org allows them', async () => {
    const org = await createOrgFor(database().db);
    const from = (
      await ensureAccount(
        database().db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet', orgId: org },
        testKey,
      )
    ).id;
    const to = (
      await ensureAccount(
        database().db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet', orgId: org },
        testKey,
      )
    ).id;
    await ledger.grant({
      id: `g-${from}`,
      to: from,
      currency: 'innovation',
      amount: 10n,
      actor: 'user:admin',
      reason: 'test',
      orgId: org,
    });
    await expect(
      ledger.execute({
        type: 'transfer',
        id: `peer-${from}`,
        debitAccountId: from,
        creditAccountId: to,
        amount: 5n,
        code: 'peer',
      }),
    ).rejects.toThrow(ForbiddenError);
    const { orgs } = await import('@tokenwise/db/schema');
    const { eq } = await import('drizzle-orm');
    await database().db.update(orgs).set({ allowPeerTransfers: true }).where(eq(orgs.id, org));
    await ledger.execute({
      type: 'transfer',
      id: `peer2-${from}`,
      debitAccountId: from,
      creditAccountId: to,
      amount: 5n,
      code: 'peer',
    });
    expect((await ledger.balance(to)).posted).toBe(5n);
  });

  it('refuses malformed ops before they reach the database, failing their chain with them', async () => {
    const id = await funded(10n);
    const results = await ledger.submit([
      {
        type: 'transfer',
        id: 'x',
        debitAccountId: 'not-a-uuid',
        creditAccountId: id,
        amount: 1n,
        code: 'grant',
        linked: true,
      },
      { type: 'void', id: `ok-${id}`, pendingId: 'whatever' },
      { type: 'transfer', id: `neg-${id}`, debitAccountId: id, creditAccountId: id, amount: -1n, code: 'x' },
    ]);
    expect(results).toEqual([
      { ok: false, code: 'invalid', message: 'debitAccountId and creditAccountId must be account ids (UUIDs).' },
      { ok: false, code: 'linked_event_failed', message: 'Not applied: op 0 of its linked chain is invalid.' },
      { ok: false, code: 'invalid', message: 'amount must be a bigint greater than zero.' },
    ]);
  });

  it('lets 200 concurrent holds on one wallet take exactly what it has, never more', async () => {
    const id = await funded(1_000n);
    const sink = await consumptionAccount(database().db, 'innovation', testKey);
    const results = (
      await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          ledger.submit([
            {
              type: 'pending',
              id: `cc-${id}-${index}`,
              debitAccountId: id,
              creditAccountId: sink.id,
              amount: 7n,
              code: 'hold',
              timeoutSeconds: 60,
            },
          ]),
        ),
      )
    ).flat();
    const admitted = results.filter((result) => result.ok).length;
    expect(admitted).toBe(Math.floor(1_000 / 7));
    expect(results.filter((result) => !result.ok && result.code === 'insufficient_funds')).toHaveLength(200 - admitted);
    expect(await ledger.balance(id)).toMatchObject({
      debitsPending: BigInt(admitted) * 7n,
      available: 1_000n - BigInt(admitted) * 7n,
    });
  });

  it('inserts attached rows with the op that applies, once, and not with an op that fails', async () => {
    const { auditLog } = await import('@tokenwise/db/schema');
    const { eq } = await import('drizzle-orm');
    const id = await funded(10n);
    const sink = await consumptionAccount(database().db, 'innovation', testKey);
    const attach = (tag: string) => [
      {
        table: auditLog,
        row: {
          actor: 'test',
          action: 'attach.test',
          entityType: 'attach',
          entityId: `${tag}-${id}`,
          before: null,
          after: null,
        },
      },
    ];
    const op = {
      type: 'pending' as const,
      id: `att-${id}`,
      debitAccountId: id,
      creditAccountId: sink.id,
      amount: 5n,
      code: 'hold',
      timeoutSeconds: 60,
      attach: attach('ok'),
    };
    await ledger.submit([op]);
    await ledger.submit([op]);
    await ledger.submit([{ ...op, id: `att2-${id}`, amount: 50n, attach: attach('refused') }]);
    const rows = async (tag: string) =>
      database()
        .db.select()
        .from(auditLog)
        .where(eq(auditLog.entityId, `${tag}-${id}`));
    expect(await rows('ok')).toHaveLength(1);
    expect(await rows('refused')).toHaveLength(0);
  });

  it('keeps every invariant and a verifiable chain after all of the above', async () => {
    expect(await checkInvariants(database().db)).toEqual([]);
    const report = await ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report.transfers).toBeGreaterThan(20);
  });
});

async function createOrgFor(db: Parameters<typeof createOrg>[0]): Promise<string> {
  const org = await createOrg(db, {
    actor: 'system:test',
    input: { slug: `org-${randomUUID().slice(0, 8)}`, name: 'Org' },
  });
  return org.id;
}
