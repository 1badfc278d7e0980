/**
 * Readers of the notification payloads the ledger, the gateway and the raise workflow write
 * (workflows/src/settlement/activities.ts, gateway/src/carbon-budgets.ts,
 * workflows/src/carbon-raise/activities.ts). A field of the wrong type reads as absent, so an
 * older or newer row still renders.
 */
type Json = Record<string, unknown>;

const record = (payload: unknown): Json =>
  typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Json) : {};
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const amount = (value: unknown): bigint | null =>
  typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : null;

/** One settled request as its notification tells it. */
export interface SettlementNote {
  requestId: string;
  model: string | null;
  score: number | null;
  refund: bigint;
  currency: string;
  reward: bigint;
  rewardCurrency: string | null;
  reason: string | null;
}

export function settlementNote(payload: unknown): SettlementNote {
  const p = record(payload);
  return {
    requestId: text(p.requestId) ?? 'unknown request',
    model: text(p.model),
    score: number(p.score),
    refund: amount(p.refund) ?? 0n,
    currency: text(p.currency) ?? 'innovation',
    reward: amount(p.reward) ?? 0n,
    rewardCurrency: text(p.rewardCurrency),
    reason: text(p.reason),
  };
}

/** A soft carbon threshold crossed. */
export interface SoftThresholdNote {
  scope: string;
  period: string | null;
  softPercent: number | null;
  capMicrograms: bigint | null;
  usedMicrograms: bigint | null;
  resetsAt: string | null;
}

export function softThresholdNote(payload: unknown): SoftThresholdNote {
  const p = record(payload);
  return {
    scope: text(p.scope) ?? 'user',
    period: text(p.period),
    softPercent: number(p.softPercent),
    capMicrograms: amount(p.capMicrograms),
    usedMicrograms: amount(p.usedMicrograms),
    resetsAt: text(p.resetsAt),
  };
}

/** A raise request (and, once decided, its decision). */
export interface RaiseNote {
  raiseId: string | null;
  scope: string;
  requestedBy: string | null;
  requestedGrams: number | null;
  reason: string | null;
  until: string | null;
  deadlineAt: string | null;
  state: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  grantedGrams: number | null;
  note: string | null;
}

export function raiseNote(payload: unknown): RaiseNote {
  const p = record(payload);
  return {
    raiseId: text(p.raiseId),
    scope: text(p.scope) ?? 'user',
    requestedBy: text(p.requestedBy),
    requestedGrams: number(p.requestedGrams),
    reason: text(p.reason),
    until: text(p.until),
    deadlineAt: text(p.deadlineAt),
    state: text(p.state),
    decidedBy: text(p.decidedBy),
    decidedAt: text(p.decidedAt),
    grantedGrams: number(p.grantedGrams),
    note: text(p.note),
  };
}
