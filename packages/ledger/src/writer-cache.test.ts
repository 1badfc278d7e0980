import { InsufficientFundsError } from '@tokenwise/core';
import { createOrg } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { consumptionAccount, ensureAccount, legacyIssuanceAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger, type Ledger } from './ledger';

const key = randomBytes(32);

// A writer decides batches from the state it left behind; these are the cases where that memory
// is wrong, because another writer (another gateway replica, the CLI) committed in between.
describeEachBackend('ledger writer memory, with another writer committing in between', (database) => {
  let a: Ledger;
  let b: Ledger;
  let issuance: string;
  let sink: string;
  let orgId: string;
  const wallet = async () =>
    (
      await ensureAccount(
        database().db,
        { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet', orgId },
        key,
      )
    ).id;
  /** A new wallet granted `amount` through writer `a`, so `a` has it in memory. */
  const fundedWallet = async (amount: bigint) => {
    const id = await wallet();
    await a.grant({
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
    orgId = (
      await createOrg(database().db, {
        actor: 'system:test',
        input: { slug: `org-${randomUUID().slice(0, 8)}`, name: 'Org' },
      })
    ).id;
    a = createLedger({ db: database().db, hmacKey: key });
    b = createLedger({ db: database().db, hmacKey: key });
    issuance = (await legacyIssuanceAccount(database().db, 'innovation', key)).id;
    sink = (await consumptionAccount(database().db, 'innovation', key)).id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('decides a holding writer’s batches from memory, and the journal matches a fresh read', async () => {
    const id = await fundedWallet(1_000n);
    const before = a.stats().cached;
    for (let i = 0; i < 5; i++) {
      await a.hold({ id: `hold-${id}-${i}`, from: id, currency: 'innovation', amount: 100n, timeoutSeconds: 60 });
      await a.execute({ type: 'post', id: `post-${id}-${i}`, pendingId: `hold-${id}-${i}`, amount: 40n });
    }
    expect(a.stats().cached - before).toBeGreaterThanOrEqual(9);
    expect(await b.balance(id)).toMatchObject({ posted: 1_000n - 5n * 40n, debitsPending: 0n, available: 800n });
    expect(await checkInvariants(database().db)).toEqual([]);
  });

  it('admits a hold that only another writer’s grant pays for (a refusal is decided on a fresh read)', async () => {
    const id = await fundedWallet(100n);
    await a.hold({ id: `first-${id}`, from: id, currency: 'innovation', amount: 100n, timeoutSeconds: 60 });
    // Writer a remembers 0 available; b grants 500 more.
    await b.grant({
      id: `more-${id}`,
      to: id,
      currency: 'innovation',
      amount: 500n,
      actor: 'user:admin',
      reason: 'test',
      orgId,
    });
    await expect(
      a.hold({ id: `second-${id}`, from: id, currency: 'innovation', amount: 450n, timeoutSeconds: 60 }),
    ).resolves.toMatchObject({ transfer: { type: 'pending', amount: 450n }, duplicate: false });
    expect(await a.balance(id)).toMatchObject({ available: 50n, debitsPending: 550n });
  });

  it('never overdraws when another writer spent what this writer remembers as available', async () => {
    const id = await fundedWallet(100n);
    await a.hold({ id: `warm-${id}`, from: id, currency: 'innovation', amount: 1n, timeoutSeconds: 60 });
    // Writer a remembers 99 available; b spends 90 of it.
    await b.submit([
      { type: 'transfer', id: `spend-${id}`, debitAccountId: id, creditAccountId: sink, amount: 90n, code: 'charge' },
    ]);
    await expect(
      a.hold({ id: `late-${id}`, from: id, currency: 'innovation', amount: 50n, timeoutSeconds: 60 }),
    ).rejects.toThrow(InsufficientFundsError);
    expect(await a.balance(id)).toMatchObject({ available: 9n, debitsPending: 1n, posted: 10n });
    expect(await checkInvariants(database().db)).toEqual([]);
  });

  it('answers an id another writer already committed as a duplicate, and moves nothing twice', async () => {
    const id = await fundedWallet(100n);
    await a.hold({ id: `warm-${id}`, from: id, currency: 'innovation', amount: 1n, timeoutSeconds: 60 });
    const op = {
      type: 'transfer' as const,
      id: `shared-${id}`,
      debitAccountId: id,
      creditAccountId: sink,
      amount: 30n,
      code: 'charge',
    };
    const [first] = await b.submit([op]);
    const [again] = await a.submit([op]);
    expect(first).toMatchObject({ ok: true, duplicate: false });
    expect(again).toMatchObject({ ok: true, duplicate: true });
    expect(await a.balance(id)).toMatchObject({ posted: 70n });
  });

  it('forgets a hold once it is posted: a retried post is the same duplicate and a late void is refused, each on a read', async () => {
    const id = await fundedWallet(100n);
    await a.hold({ id: `h-${id}`, from: id, currency: 'innovation', amount: 60n, timeoutSeconds: 60 });
    const post = { type: 'post' as const, id: `p-${id}`, pendingId: `h-${id}`, amount: 25n };
    const [first] = await a.submit([post]);
    const [again] = await a.submit([post]);
    const [late] = await a.submit([{ type: 'void', id: `v-${id}`, pendingId: `h-${id}` }]);
    expect(first).toMatchObject({ ok: true, duplicate: false });
    expect(again).toMatchObject({ ok: true, duplicate: true });
    expect(late).toMatchObject({ ok: false, code: 'pending_already_posted' });
    expect(await a.balance(id)).toMatchObject({ posted: 75n, available: 75n, debitsPending: 0n });
    expect(await checkInvariants(database().db)).toEqual([]);
  });

  it('posts a hold that another writer voided meanwhile as refused, not applied', async () => {
    const id = await fundedWallet(100n);
    await a.hold({ id: `h-${id}`, from: id, currency: 'innovation', amount: 60n, timeoutSeconds: 60 });
    await b.execute({ type: 'void', id: `v-${id}`, pendingId: `h-${id}` });
    const [post] = await a.submit([{ type: 'post', id: `p-${id}`, pendingId: `h-${id}`, amount: 60n }]);
    expect(post).toMatchObject({ ok: false, code: 'pending_already_voided' });
    expect(await a.balance(id)).toMatchObject({ posted: 100n, available: 100n, debitsPending: 0n });
    expect(await checkInvariants(database().db)).toEqual([]);
    expect((await a.verify()).problems).toEqual([]);
    expect(issuance).toBeTruthy();
  });
});
