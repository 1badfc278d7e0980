import { carbonPeriodOf, carbonTransferId, invariant, NotFoundError, type CarbonPeriodKind } from '@tokenwise/core';
import {
  currentCarbonCap,
  decideCarbonRaiseIfPending,
  endCarbonRaise,
  findCarbonRaise,
  findOrgTimeZone,
  type CarbonRaise,
  type Db,
} from '@tokenwise/db';
import { carbonBudgetKey, carbonSourceKey, type Ledger } from '@tokenwise/ledger';
import { describeDuration, raiseEndsAt } from './raise-dates';

/** The ledger code of a raise's grant into a carbon budget. */
export const carbonRaiseTransferCode = 'carbon_raise';
/** Who decides a raise nobody decided in time. */
export const raiseDeadlineDecider = 'deadline';

export interface RaiseDeps {
  db: Db;
  ledger: Ledger;
}

/** The org's time zone; a raise of a missing org is a bug, not a user error. */
export async function orgTimeZone(db: Db, orgId: string): Promise<string> {
  const timeZone = await findOrgTimeZone(db, { orgId });
  invariant(timeZone !== undefined, `carbon raise of a missing org ${orgId}`);
  return timeZone;
}

/** The period kind of the scope's cap (month when it never had one: a raise needs a cap, so only a removed cap's history). */
export async function capPeriodKind(db: Db, raise: { scope: CarbonRaise['scope']; scopeId: string }) {
  const cap = await currentCarbonCap(db, { scope: raise.scope, scopeId: raise.scopeId });
  return cap?.period ?? 'month';
}

/** The budget period an approval decided at `at` funds: the scope's current period in the org's time zone. */
export function grantPeriodOf(at: Date, timeZone: string, kind: CarbonPeriodKind): string {
  return carbonPeriodOf(at, timeZone, kind);
}

/**
 * Moves an approved raise's grant from the org's carbon source into the scope's budget of the
 * period it was granted to. The transfer id is `carbon-raise-<raiseId>`, so applying it again (the
 * workflow after a crash of the API) moves nothing twice.
 */
export async function applyRaiseGrant(ledger: Ledger, raise: CarbonRaise): Promise<{ duplicate: boolean }> {
  invariant(raise.state === 'approved', `raise ${raise.id} is ${raise.state}, not approved`);
  invariant(
    raise.grantedMicrograms !== null && raise.grantedPeriod !== null,
    `approved raise ${raise.id} lacks its grant`,
  );
  if (raise.grantedMicrograms === 0n) return { duplicate: false };
  const [source, budget] = await Promise.all([
    ledger.ensureAccount(carbonSourceKey(raise.orgId)),
    ledger.ensureAccount(
      carbonBudgetKey({ orgId: raise.orgId, scope: raise.scope, scopeId: raise.scopeId, period: raise.grantedPeriod }),
    ),
  ]);
  const { duplicate } = await ledger.execute({
    type: 'transfer',
    id: carbonTransferId.raise(raise.id),
    debitAccountId: source.id,
    creditAccountId: budget.id,
    amount: raise.grantedMicrograms,
    code: carbonRaiseTransferCode,
    userData: { raiseId: raise.id, period: raise.grantedPeriod },
  });
  return { duplicate };
}

/** A decided raise as the approval workflow needs it. */
export interface RaiseOutcome {
  raiseId: string;
  state: CarbonRaise['state'];
  decidedBy: string | null;
  grantedMicrograms: bigint | null;
  /** An approved `until` raise: when its last period closes (ISO instant). */
  endsAt?: string;
}

async function outcomeOf(db: Db, raise: CarbonRaise): Promise<RaiseOutcome> {
  const outcome: RaiseOutcome = {
    raiseId: raise.id,
    state: raise.state,
    decidedBy: raise.decidedBy,
    grantedMicrograms: raise.grantedMicrograms,
  };
  if (raise.state !== 'approved' || raise.until === null) return outcome;
  const [timeZone, kind] = await Promise.all([orgTimeZone(db, raise.orgId), capPeriodKind(db, raise)]);
  return { ...outcome, endsAt: raiseEndsAt(raise.until, timeZone, kind).toISOString() };
}

async function raiseOf(db: Db, raiseId: string): Promise<CarbonRaise> {
  const raise = await findCarbonRaise(db, { raiseId });
  if (raise === undefined) throw new NotFoundError(`No carbon raise ${raiseId}.`);
  return raise;
}

/** Where the raise stands; an approval's grant is applied (idempotently) before answering. */
export async function ensureRaiseGranted(deps: RaiseDeps, params: { raiseId: string }): Promise<RaiseOutcome> {
  const raise = await raiseOf(deps.db, params.raiseId);
  if (raise.state === 'approved') await applyRaiseGrant(deps.ledger, raise);
  return outcomeOf(deps.db, raise);
}

/**
 * Denies a raise still pending at its deadline, by the same conditional update as a person's
 * decision, decided by `deadline` with a note saying so. A person who decided first wins: their
 * decision is answered (and an approval's grant ensured).
 */
export async function denyRaiseAtDeadline(
  deps: RaiseDeps,
  params: { raiseId: string; now?: Date },
): Promise<RaiseOutcome> {
  const raise = await raiseOf(deps.db, params.raiseId);
  if (raise.state === 'pending') {
    const waitedMs = raise.deadlineAt.getTime() - raise.createdAt.getTime();
    await decideCarbonRaiseIfPending(deps.db, {
      raiseId: raise.id,
      state: 'denied',
      decidedBy: raiseDeadlineDecider,
      decidedAt: params.now ?? new Date(),
      grantedMicrograms: null,
      grantedPeriod: null,
      note: `No ESG officer decided within ${describeDuration(waitedMs)}`,
      actor: 'system:carbon-raise-deadline',
    });
  }
  return ensureRaiseGranted(deps, params);
}

/** Marks an approved `until` raise ended at its last period's close; later periods are no longer funded from it. */
export async function endRaise(db: Db, params: { raiseId: string; endedAt: Date }): Promise<void> {
  await endCarbonRaise(db, params);
}
