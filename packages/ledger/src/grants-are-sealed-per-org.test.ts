import { ForbiddenError, grantTransferId, IdempotencyConflictError, LimitExceededError } from '@tokenwise/core';
import { createOrg, setGrantBounds } from '@tokenwise/db';
import { describeEachBackend, openTestDatabase } from '@tokenwise/db/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { findAccountById, legacyIssuanceAccount, orgIssuanceAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger, type Ledger } from './ledger';
import { getBalance, getTransfer } from './queries';

describeEachBackend('grants are sealed per org', (database, backend) => {
  // 23:30 UTC on 31 January is already February in Tokyo.
  let now = new Date('2026-01-31T23:30:00Z');
  let ledger: Ledger;
  const hmacKey = randomBytes(32);
  const db = () => database().db;
  const newOrg = async (timeZone = 'UTC') =>
    (
      await createOrg(db(), {
        actor: 'system:test',
        input: { slug: `org-${randomUUID().slice(0, 8)}`, name: 'Org', timeZone },
      })
    ).id;
  const walletOf = async (orgId: string) =>
    (
      await ledger.ensureAccount({
        ownerType: 'user',
        ownerId: randomUUID(),
        orgId,
        currency: 'innovation',
        purpose: 'wallet',
      })
    ).id;
  const grant = (orgId: string, to: string, amount: bigint, id = `grant-${randomUUID()}`) =>
    ledger.grant({ id, to, currency: 'innovation', amount, actor: 'user:admin', reason: 'test', orgId });

  beforeAll(() => {
    ledger = createLedger({ db: db(), hmacKey, clock: () => now });
    return () => ledger.close();
  });

  it("debits the granting org's own issuance account, never another org's or the old platform-wide one", async () => {
    const [a, b] = [await newOrg(), await newOrg()];
    const legacyBefore = (await getBalance(db(), (await legacyIssuanceAccount(db(), 'innovation', hmacKey)).id))
      ?.debitsPosted;
    const { transfer } = await grant(a, await walletOf(a), 700n);
    const source = await findAccountById(db(), transfer.debitAccountId);
    expect(source).toMatchObject({
      ownerType: 'org',
      ownerId: a,
      orgId: a,
      purpose: 'issuance',
      debitsMustNotExceedCredits: false,
    });
    expect(
      (await getBalance(db(), (await orgIssuanceAccount(db(), { orgId: b, currency: 'innovation' }, hmacKey)).id))
        ?.debitsPosted,
    ).toBe(0n);
    expect((await getBalance(db(), (await legacyIssuanceAccount(db(), 'innovation', hmacKey)).id))?.debitsPosted).toBe(
      legacyBefore,
    );
    expect(await checkInvariants(db())).toEqual([]);
  });

  it("refuses to grant into another org's account", async () => {
    const [a, b] = [await newOrg(), await newOrg()];
    const walletOfB = await walletOf(b);
    await expect(grant(a, walletOfB, 10n)).rejects.toThrow(ForbiddenError);
    expect((await getBalance(db(), walletOfB))?.posted).toBe(0n);
  });

  it("names a transfer that moved one org's issuance into another org's account (a raw op past ledger.grant)", async () => {
    const fresh = await openTestDatabase(backend);
    const rawKey = randomBytes(32);
    const rawLedger = createLedger({ db: fresh.db, hmacKey: rawKey });
    try {
      const a = (await createOrg(fresh.db, { actor: 'system:test', input: { slug: 'issuer', name: 'Issuer' } })).id;
      const b = (await createOrg(fresh.db, { actor: 'system:test', input: { slug: 'other', name: 'Other' } })).id;
      const issuance = await orgIssuanceAccount(fresh.db, { orgId: a, currency: 'innovation' }, rawKey);
      const walletOfB = (
        await rawLedger.ensureAccount({
          ownerType: 'user',
          ownerId: randomUUID(),
          orgId: b,
          currency: 'innovation',
          purpose: 'wallet',
        })
      ).id;
      await rawLedger.execute({
        type: 'transfer',
        id: 'leak',
        debitAccountId: issuance.id,
        creditAccountId: walletOfB,
        amount: 5n,
        code: 'grant',
      });
      expect(await checkInvariants(fresh.db)).toEqual([
        `transfer leak moves org ${a}'s issuance into an account of org ${b}`,
      ]);
    } finally {
      await rawLedger.close();
      await fresh.close();
    }
  });

  it('refuses a grant above the per-grant bound and above what is left this month (in the org time zone), naming the bound, the amount and what is left', async () => {
    const tokyo = await newOrg('Asia/Tokyo');
    const other = await newOrg();
    await setGrantBounds(db(), {
      orgId: tokyo,
      currency: 'innovation',
      bounds: { grantAmountMax: 100_000_000n, monthlyIssuanceMax: 250_000_000n },
      actor: 'system:operator',
    });
    await setGrantBounds(db(), {
      orgId: other,
      currency: 'innovation',
      bounds: { grantAmountMax: 100_000_000n, monthlyIssuanceMax: 250_000_000n },
      actor: 'system:operator',
    });
    const wallet = await walletOf(tokyo);
    await expect(grant(tokyo, wallet, 100_000_001n)).rejects.toThrow(
      /grantAmountMax of 100 innovation per grant; 250 innovation is left .*2026-02, Asia\/Tokyo/,
    );
    await grant(tokyo, wallet, 100_000_000n);
    await ledger.grantAllowance({
      to: await walletOf(tokyo),
      currency: 'innovation',
      amount: 100_000_000n,
      at: now,
      timeZone: 'Asia/Tokyo',
      actor: 'system:allowance',
      orgId: tokyo,
    });
    const refused = grant(tokyo, wallet, 60_000_000n);
    await expect(refused).rejects.toThrow(LimitExceededError);
    await expect(refused).rejects.toThrow('A grant of 60 innovation exceeds org');
    await expect(refused).rejects.toThrow(
      /monthlyIssuanceMax of 250 innovation per month: 50 innovation is left for 2026-02 \(Asia\/Tokyo\)/,
    );
    expect((await getBalance(db(), wallet))?.posted).toBe(100_000_000n);
    // Another org's issuance is its own: the exhausted org never stops it.
    await expect(grant(other, await walletOf(other), 100_000_000n)).resolves.toMatchObject({ duplicate: false });
    await grant(tokyo, wallet, 50_000_000n);
    await expect(grant(tokyo, wallet, 1n)).rejects.toThrow(/0 innovation is left for 2026-02/);
    now = new Date('2026-02-28T15:00:00Z'); // March in Tokyo: a new month of issuance.
    await grant(tokyo, wallet, 100_000_000n, 'retried-once');
    await grant(tokyo, wallet, 100_000_000n);
    await grant(tokyo, wallet, 50_000_000n);
    // A retry of a committed grant is a replay, not new issuance: the spent bound never refuses it.
    await expect(grant(tokyo, wallet, 100_000_000n, 'retried-once')).resolves.toMatchObject({ duplicate: true });
    expect(await checkInvariants(db())).toEqual([]);
  });

  it("namespaces the admin's grant id by org; a grant made under the raw id before stays a replay for its own org only", async () => {
    const [a, b] = [await newOrg(), await newOrg()];
    const [walletA, walletB] = [await walletOf(a), await walletOf(b)];
    const first = await grant(a, walletA, 40n, 'welcome');
    expect(first.transfer.id).toBe(grantTransferId(a, 'welcome'));
    await expect(grant(b, walletB, 41n, 'welcome')).resolves.toMatchObject({
      duplicate: false,
      transfer: { id: grantTransferId(b, 'welcome'), amount: 41n },
    });
    const conflict = await grant(a, walletA, 42n, 'welcome').catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(IdempotencyConflictError);
    expect((conflict as Error).message).toBe(
      'Grant id "welcome" was already used in this org for a different grant; use a new id for a new grant.',
    );
    // Committed before ids were namespaced, under the admin's raw id.
    const raw = `legacy-${randomUUID()}`;
    await ledger.execute({
      type: 'transfer',
      id: raw,
      debitAccountId: (await legacyIssuanceAccount(db(), 'innovation', hmacKey)).id,
      creditAccountId: walletA,
      amount: 9n,
      code: 'grant',
    });
    await expect(grant(a, walletA, 9n, raw)).resolves.toMatchObject({ duplicate: true, transfer: { id: raw } });
    await expect(grant(a, walletA, 10n, raw)).rejects.toThrow(/already used in this org/);
    await expect(grant(b, walletB, 10n, raw)).resolves.toMatchObject({
      duplicate: false,
      transfer: { id: grantTransferId(b, raw) },
    });
    expect(await getTransfer(db(), grantTransferId(a, raw))).toBeUndefined();
    expect((await getBalance(db(), walletA))?.posted).toBe(49n);
  });

  it('never issues beyond the monthly bound when grants of one org run at once', async () => {
    const org = await newOrg();
    await setGrantBounds(db(), {
      orgId: org,
      currency: 'innovation',
      bounds: { grantAmountMax: 1_000n, monthlyIssuanceMax: 250n },
      actor: 'system:operator',
    });
    const wallets = await Promise.all(Array.from({ length: 10 }, () => walletOf(org)));
    const outcomes = await Promise.allSettled(wallets.map((wallet) => grant(org, wallet, 30n)));
    // A grant in flight counts for the others until it is released, and once committed it counts
    // again: at once, a grant may be refused that would have fit, never one admitted that does not.
    const granted = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    expect(granted).toBeGreaterThan(0);
    expect(granted).toBeLessThanOrEqual(8);
    for (const outcome of outcomes)
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(LimitExceededError);
    // One after another, the rest of the bound is issued exactly: 8 grants of 30 in all, the 9th refused.
    const rest = await Promise.all(Array.from({ length: 8 - granted }, () => walletOf(org)));
    for (const wallet of rest) await grant(org, wallet, 30n);
    await expect(grant(org, await walletOf(org), 30n)).rejects.toBeInstanceOf(LimitExceededError);
    const issuance = await orgIssuanceAccount(db(), { orgId: org, currency: 'innovation' }, hmacKey);
    expect((await getBalance(db(), issuance.id))?.debitsPosted).toBe(240n);
  });
});
