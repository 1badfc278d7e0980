import { describeEachBackend } from '@tokenwise/db/testing';
import fc from 'fast-check';
import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { consumptionAccount, ensureAccount } from './accounts';
import { checkInvariants } from './invariants';
import { createLedger } from './ledger';
import type { LedgerOp, OpResult } from './types';

const key = randomBytes(32);

const walletCount = 5;
const laneCount = 8;

type Action =
  | { kind: 'grant'; wallet: number; amount: bigint }
  | { kind: 'hold'; wallet: number; amount: bigint; timeoutSeconds: number }
  | { kind: 'post'; hold: number; percent: number }
  | { kind: 'void'; hold: number }
  | { kind: 'charge'; wallet: number; amount: bigint }
  | { kind: 'advance'; seconds: number }
  | { kind: 'expire' }
  | { kind: 'retry'; of: number }
  | { kind: 'conflict'; of: number };

const amount = fc.bigInt({ min: 1n, max: 500n });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('grant' as const), wallet: fc.nat(walletCount - 1), amount }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('hold' as const),
      wallet: fc.nat(walletCount - 1),
      amount,
      timeoutSeconds: fc.integer({ min: 1, max: 120 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      hold: fc.nat(40),
      percent: fc.integer({ min: 0, max: 120 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('void' as const), hold: fc.nat(40) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('charge' as const), wallet: fc.nat(walletCount - 1), amount }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 90 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retry' as const), of: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('conflict' as const), of: fc.nat(60) }) },
);

describeEachBackend('ledger properties', (database) => {
  it('keeps every invariant under random concurrent grants, holds, posts, voids, expiries and retries', async () => {
    let now = new Date('2026-11-26T00:00:00Z');
    const ledger = createLedger({ db: database().db, hmacKey: key, clock: () => now });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 60 }), async (actions) => {
          const run = randomUUID().slice(0, 8);
          const db = database().db;
          const sink = await consumptionAccount(db, 'innovation', key);
          const wallets = await Promise.all(
            Array.from(
              { length: walletCount },
              async () =>
                (
                  await ensureAccount(
                    db,
                    { ownerType: 'user', ownerId: randomUUID(), currency: 'innovation', purpose: 'wallet' },
                    key,
                  )
                ).id,
            ),
          );
          const issued: LedgerOp[] = [];
          const holdIds: string[] = [];
          const opFor = (act: Action, index: number): LedgerOp | undefined => {
            const id = `${run}-${index}`;
            switch (act.kind) {
              case 'grant':
                return {
                  type: 'transfer',
                  id,
                  debitAccountId: issuance,
                  creditAccountId: wallets[act.wallet] as string,
                  amount: act.amount,
                  code: 'grant',
                };
              case 'hold':
                holdIds.push(id);
                return {
                  type: 'pending',
                  id,
                  debitAccountId: wallets[act.wallet] as string,
                  creditAccountId: sink.id,
                  amount: act.amount,
                  code: 'hold',
                  timeoutSeconds: act.timeoutSeconds,
                };
              case 'post': {
                const pendingId = holdIds[act.hold % Math.max(holdIds.length, 1)] ?? `${run}-none`;
                const held = issued.find((op) => op.id === pendingId);
                const postAmount = held?.type === 'pending' ? (held.amount * BigInt(act.percent)) / 100n : 1n;
                return { type: 'post', id, pendingId, amount: postAmount };
              }
              case 'void':
                return {
                  type: 'void',
                  id,
                  pendingId: holdIds[act.hold % Math.max(holdIds.length, 1)] ?? `${run}-none`,
                };
              case 'charge':
                return {
                  type: 'transfer',
                  id,
                  debitAccountId: wallets[act.wallet] as string,
                  creditAccountId: sink.id,
                  amount: act.amount,
                  code: 'charge',
                };
              case 'retry':
                return issued[act.of % Math.max(issued.length, 1)];
              case 'conflict': {
                const original = issued[act.of % Math.max(issued.length, 1)];
                if (original === undefined || (original.type !== 'transfer' && original.type !== 'pending'))
                  return undefined;
                return { ...original, amount: original.amount + 1n };
              }
              default:
                return undefined;
            }
          };
          const issuance = (
            await ensureAccount(
              db,
              { ownerType: 'system', ownerId: 'issuance', currency: 'innovation', purpose: 'issuance' },
              key,
            )
          ).id;
          const lanes: (() => Promise<void>)[][] = Array.from({ length: laneCount }, () => []);
          const outcomes: { op: LedgerOp; result: OpResult; conflict: boolean }[] = [];
          actions.forEach((act, index) => {
            if (act.kind === 'advance') {
              lanes[index % laneCount]?.push(async () => {
                now = new Date(now.getTime() + act.seconds * 1000);
              });
              return;
            }
            if (act.kind === 'expire') {
              lanes[index % laneCount]?.push(async () => {
                await ledger.expireDue();
              });
              return;
            }
            const op = opFor(act, index);
            if (op === undefined) return;
            if (act.kind !== 'retry' && act.kind !== 'conflict') issued.push(op);
            lanes[index % laneCount]?.push(async () => {
              const [result] = await ledger.submit([op]);
              outcomes.push({ op, result: result as OpResult, conflict: act.kind === 'conflict' });
            });
          });
          await Promise.all(
            lanes.map(async (lane) => {
              for (const step of lane) await step();
            }),
          );

          // A conflicting body is refused unless the original never committed (then it is just new).
          for (const outcome of outcomes) {
            if (outcome.conflict && !outcome.result.ok)
              expect(['idempotency_conflict', 'insufficient_funds', 'pending_not_found']).toContain(
                outcome.result.code,
              );
          }
          // Every committed id was committed once: replays return the same seq.
          const seqById = new Map<string, bigint>();
          for (const { result } of outcomes) {
            if (!result.ok) continue;
            const seen = seqById.get(result.transfer.id);
            if (seen !== undefined) expect(result.transfer.seq).toBe(seen);
            seqById.set(result.transfer.id, result.transfer.seq);
          }
          // Conservation per wallet: posted = grants - charges - posts; available never negative.
          for (const wallet of wallets) {
            const balance = await ledger.balance(wallet);
            expect(balance.available).toBeGreaterThanOrEqual(0n);
          }
          expect(await checkInvariants(db)).toEqual([]);
        }),
        { numRuns: 12 },
      );
      const report = await ledger.verify();
      expect(report.problems).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});
