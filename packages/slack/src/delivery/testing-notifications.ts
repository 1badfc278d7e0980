import { insertNotification, insertNotificationsOnce, type Db, type User } from '@tokenwise/db';
import { randomBytes } from 'node:crypto';

/** Notification rows shaped as the settlement activity, the gateway and the raise workflow write them (tests). */
export async function insertSettlementNote(db: Db, user: User, params: { requestId?: string; refund?: bigint } = {}) {
  await insertNotification(db, {
    row: {
      orgId: user.orgId,
      userId: user.id,
      kind: 'settlement',
      payload: {
        requestId: params.requestId ?? `req-${randomBytes(4).toString('hex')}`,
        model: 'llama-8b',
        score: 0.8,
        refund: params.refund ?? 250_000n,
        currency: 'innovation',
        reward: 0n,
        rewardCurrency: null,
        reason: 'scored by llm-judge',
      },
    },
  });
}

/** A soft-threshold alert for `user` (its dedupe key fresh each call). */
export async function insertSoftThresholdNote(db: Db, user: User, softPercent = 80) {
  await insertNotificationsOnce(db, {
    rows: [
      {
        orgId: user.orgId,
        userId: user.id,
        kind: 'carbon_soft_threshold',
        payload: {
          scope: 'user',
          scopeId: user.id,
          period: '2026-12',
          softPercent,
          capMicrograms: 5_000_000n,
          usedMicrograms: 4_100_000n,
          resetsAt: '2027-01-01T00:00:00.000Z',
        },
        dedupeKey: `test-soft:${user.id}:${randomBytes(6).toString('hex')}`,
      },
    ],
  });
}

/** The raise workflow's notification of a pending raise to each officer. */
export async function insertRaiseRequestedNotes(db: Db, raiseId: string, requester: User, officers: readonly User[]) {
  await insertNotificationsOnce(db, {
    rows: officers.map((officer) => ({
      orgId: officer.orgId,
      userId: officer.id,
      kind: 'carbon_raise_requested',
      payload: { raiseId, scope: 'user', scopeId: requester.id, requestedBy: requester.id, requestedGrams: 25 },
      dedupeKey: `carbon-raise-requested-${raiseId}-${officer.id}`,
    })),
  });
}
