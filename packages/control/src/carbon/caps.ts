import {
  carbonTransferId,
  gramsToMicrograms,
  NotFoundError,
  ValidationError,
  type CarbonPeriodKind,
  type CarbonScope,
} from '@tokenwise/core';
import { ownerInOrg, publishCarbonCap, type CarbonCapVersion, type Db } from '@tokenwise/db';
import { carbonBudgetKey, carbonSourceKey, getTransfers, type Ledger } from '@tokenwise/ledger';
import { createBudgetPeriods } from './budget-periods';
import { budgetFundingOps, fundedBy } from './funding';

export interface SetCarbonCapInput {
  scope: CarbonScope;
  teamId?: string | undefined;
  userId?: string | undefined;
  period: CarbonPeriodKind;
  /** Grams per period; null removes the cap (no limit). */
  hardGrams: number | null;
  softPercent?: number | null | undefined;
}

/** The scope id a cap input addresses (the org's own id for `org`), refusing ids that do not fit the scope. */
export function scopeIdOf(
  input: { scope: CarbonScope; teamId?: string | undefined; userId?: string | undefined },
  orgId: string,
): string {
  if (input.scope === 'org') {
    if (input.teamId !== undefined || input.userId !== undefined)
      throw new ValidationError('scope "org" takes neither teamId nor userId: it is the whole org.');
    return orgId;
  }
  if (input.scope === 'team') {
    if (input.teamId === undefined) throw new ValidationError('scope "team" needs teamId (the team\'s UUID).');
    if (input.userId !== undefined) throw new ValidationError('scope "team" takes teamId, not userId.');
    return input.teamId;
  }
  if (input.userId === undefined) throw new ValidationError('scope "user" needs userId (the user\'s UUID).');
  if (input.teamId !== undefined) throw new ValidationError('scope "user" takes userId, not teamId.');
  return input.userId;
}

const periods = createBudgetPeriods();

/**
 * Sets (or removes) a scope's cap as a new audited version, then moves the current period's budget
 * by the difference: a period nobody has used yet is funded at the new cap, one already funded
 * gets the difference (never below zero: a cut takes at most what is left). The ids are
 * deterministic per budget and version, so a retry moves nothing twice, and a gateway funding the
 * period at the same moment with the old cap is corrected by the difference.
 */
export async function setCarbonCap(
  deps: { db: Db; ledger: Ledger; now?: () => Date },
  params: { orgId: string; timeZone: string; actor: string; input: SetCarbonCapInput },
): Promise<{ current: CarbonCapVersion; previous: CarbonCapVersion | undefined }> {
  const { input, orgId } = params;
  const scopeId = scopeIdOf(input, orgId);
  const hardMicrograms = input.hardGrams === null ? null : gramsToMicrograms(input.hardGrams, 'hardGrams');
  const softPercent = input.softPercent ?? null;
  if (softPercent !== null && (!Number.isInteger(softPercent) || softPercent < 1 || softPercent > 100))
    throw new ValidationError(`softPercent must be a whole number from 1 to 100, got ${softPercent}.`);
  if (hardMicrograms === null && softPercent !== null)
    throw new ValidationError('softPercent is a share of the hard cap: set hardGrams too, or leave softPercent out.');
  if (!(await ownerInOrg(deps.db, { ownerType: input.scope, ownerId: scopeId, orgId })))
    throw new NotFoundError(`No ${input.scope} ${scopeId} in your org.`);
  const published = await publishCarbonCap(deps.db, {
    orgId,
    scope: input.scope,
    scopeId,
    period: input.period,
    hardMicrograms,
    softPercent,
    actor: params.actor,
  });
  if (hardMicrograms !== null)
    await alignCurrentBudget(deps, { orgId, timeZone: params.timeZone, cap: published.current, hardMicrograms });
  return published;
}

async function alignCurrentBudget(
  deps: { db: Db; ledger: Ledger; now?: () => Date },
  params: { orgId: string; timeZone: string; cap: CarbonCapVersion; hardMicrograms: bigint },
): Promise<void> {
  const { cap, hardMicrograms } = params;
  const { period, startDate } = periods(deps.now?.() ?? new Date(), params.timeZone, cap.period);
  const budget = await deps.ledger.ensureAccount(
    carbonBudgetKey({ orgId: params.orgId, scope: cap.scope, scopeId: cap.scopeId, period }),
  );
  const source = await deps.ledger.ensureAccount(carbonSourceKey(params.orgId));
  const [fund] = budgetFundingOps({
    budgetAccountId: budget.id,
    sourceAccountId: source.id,
    scope: cap.scope,
    scopeId: cap.scopeId,
    capVersion: cap.version,
    hardMicrograms,
    period,
    periodStartDate: startDate,
    untilRaises: [],
  });
  if (fund !== undefined) {
    const [result] = await deps.ledger.submit([fund]);
    if (result?.ok === true && !result.duplicate) return;
    if (result === undefined || !fundedBy(result))
      throw new Error(
        `Funding carbon budget ${budget.id} failed: ${result?.ok === false ? result.message : 'no result'}`,
      );
  }
  // Funded before (by a gateway or an earlier cap): what the cap versions put in so far.
  const capIds = [carbonTransferId.fund(budget.id)];
  for (let version = 1; version < cap.version; version++) capIds.push(carbonTransferId.capChange(budget.id, version));
  const transfers = await getTransfers(deps.db, capIds);
  if (!transfers.some((transfer) => transfer.id === carbonTransferId.fund(budget.id))) {
    // Never funded (the cap was zero): funding now at the new cap is exactly the change.
    if (fund === undefined) return;
  }
  let fundedSoFar = 0n;
  for (const transfer of transfers)
    fundedSoFar += transfer.creditAccountId === budget.id ? transfer.amount : -transfer.amount;
  const delta = hardMicrograms - fundedSoFar;
  const id = carbonTransferId.capChange(budget.id, cap.version);
  if (delta > 0n) {
    const [result] = await deps.ledger.submit([
      {
        type: 'transfer',
        id,
        debitAccountId: source.id,
        creditAccountId: budget.id,
        amount: delta,
        code: 'carbon_cap_change',
        userData: { period, capVersion: cap.version },
      },
    ]);
    if (result === undefined || !fundedBy(result))
      throw new Error(`Raising carbon budget ${budget.id} failed: ${result?.ok === false ? result.message : ''}`);
    return;
  }
  // A cut takes what is left at most: requests in flight keep their holds, the budget never goes below zero.
  for (let attempt = 0; delta < 0n && attempt < 5; attempt++) {
    const { available } = await deps.ledger.balance(budget.id);
    const amount = available < -delta ? available : -delta;
    if (amount <= 0n) return;
    const [result] = await deps.ledger.submit([
      {
        type: 'transfer',
        id,
        debitAccountId: budget.id,
        creditAccountId: source.id,
        amount,
        code: 'carbon_cap_change',
        userData: { period, capVersion: cap.version },
      },
    ]);
    if (result !== undefined && fundedBy(result)) return;
    if (result?.ok === false && result.code !== 'insufficient_funds')
      throw new Error(`Cutting carbon budget ${budget.id} failed: ${result.message}`);
  }
}
