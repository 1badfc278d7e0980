import {
  assertCostWithinEstimate,
  chargeTransferId,
  costBeyondEstimate,
  currencyByCode,
  formatAmount,
  holdTransferId,
  InsufficientFundsError,
  quoteCost,
  voidTransferId,
  type AdmissionEstimate,
  type Amount,
  type CarbonClusterProfile,
  type CarbonModelProfile,
  type CostQuote,
  type PriorityTier,
} from '@tokenwise/core';
import { gatewayRequests, outbox, requestPayloads, usageRecords } from '@tokenwise/db/schema';
import type { Ledger, LedgerOp, OpResult } from '@tokenwise/ledger';
import type { CurrentPriceList } from '@tokenwise/control';
import type { CarbonBudgets, CarbonHold, CarbonPlan } from './carbon-budgets';
import type { PayerAccounts } from './payer-accounts';
import { evidenceColumnsOf } from './request-body';
import type { ClusterInfo, Principal } from './ports';
import type { SettlementVersions } from './policy-versions';
import type { TokenUsage } from './stream-usage';
import { carbonClusterOf, co2eBoundOn, modelCarbonOf, usageCarbonOf, type UsageCarbon } from './usage-carbon';

/** One admitted request: its holds, one per currency the estimate needs. */
export interface Admission {
  requestId: string;
  principal: Principal;
  model: string;
  tier: PriorityTier;
  priceList: CurrentPriceList;
  estimate: AdmissionEstimate;
  holds: { currency: string; holdId: string; amount: Amount; wallet: string; availableAfter: Amount | undefined }[];
  /** Holds on the user's, team's and org's carbon budgets (only the scopes with a cap). */
  carbonHolds: CarbonHold[];
  system: boolean;
}

export interface Completion {
  usage: TokenUsage;
  cluster: ClusterInfo;
  replica: string;
  latencyMs: number;
  ttftMs: number | undefined;
  /**
   * completed; client_aborted (the client left or stopped reading: it pays for what was generated);
   * timed_out (the gateway's deadline cut a request the model was working on); cut_at_bound (the
   * model went past the held bound and the gateway ended the answer there).
   */
  outcome: 'completed' | 'client_aborted' | 'timed_out' | 'cut_at_bound';
  endUser: string | null;
  tags: Record<string, string>;
}

export interface Charge {
  cost: CostQuote;
  /** Operational + embodied (what caps count and the carbon price charges), with its parts and methodology. */
  carbon: UsageCarbon;
  co2eMicrograms: bigint;
  energyMicroWh: bigint;
  /** Set when usage went past the hold's bound: the whole hold is charged, never voided. */
  overrun: 'prompt' | 'completion' | 'cost' | undefined;
}

/** The model's carbon profile on `cluster` (its declared profile wins over the gateway setting); see modelCarbonOf. */
export function carbonProfileOf(
  model: string,
  priceList: CurrentPriceList,
  profiles: Record<string, CarbonModelProfile>,
  cluster?: ClusterInfo,
): CarbonModelProfile {
  return modelCarbonOf(model, priceList, profiles, cluster).profile;
}

export function clusterProfileOf(cluster: ClusterInfo): CarbonClusterProfile {
  return carbonClusterOf(cluster);
}

/** The co2e bound (operational + embodied) the estimate needs when the price list prices carbon. */
export function co2eBoundFor(model: CarbonModelProfile, cluster: ClusterInfo): (outputTokens: number) => bigint {
  return co2eBoundOn(model, cluster);
}

const int32Max = 2_147_483_647;
const failed = (result: OpResult | undefined) => result !== undefined && !result.ok;

/**
 * Places the holds (one per currency, linked: all or none) and writes the admission row in the
 * same transaction. Insufficient tokens: an error that states the estimate and the balance.
 */
export async function admit(
  deps: { ledger: Ledger; accounts: PayerAccounts; holdTimeoutSeconds: number; carbon?: CarbonBudgets },
  request: Omit<Admission, 'holds' | 'carbonHolds'> & SettlementVersions & { carbonPlan?: CarbonPlan | undefined },
): Promise<Admission> {
  const { principal, estimate, requestId } = request;
  const currencies = Object.entries(estimate.cost.totals).filter(([, amount]) => amount > 0n);
  const holds = await Promise.all(
    currencies.map(async ([currency, amount]) => ({
      currency,
      amount,
      holdId: holdTransferId(requestId, currency),
      wallet: await deps.accounts.walletOf(principal, currency),
      sink: await deps.accounts.consumptionOf(currency),
    })),
  );
  const modelCurrency = request.priceList.list.models[request.model]?.currency ?? 'innovation';
  const fee = holds.find((hold) => hold.currency !== modelCurrency);
  const admissionRow = {
    requestId,
    keyId: principal.keyId,
    orgId: principal.orgId,
    userId: principal.userId,
    teamId: principal.teamId,
    model: request.model,
    tier: request.tier,
    currency: modelCurrency,
    estimate: estimate.cost.totals[modelCurrency] ?? 0n,
    feeCurrency: fee?.currency ?? null,
    feeEstimate: fee?.amount ?? null,
    priceListVersion: request.priceList.version,
    policyVersion: request.policyVersion,
    scoringConfigVersion: request.scoringConfigVersion,
    system: request.system,
  };
  const { carbonPlan, ...admitted } = request;
  const carbonHolds = carbonPlan?.holds.filter((hold) => hold.amount > 0n) ?? [];
  const chainLength = holds.length + carbonHolds.length;
  const holdOps: LedgerOp[] = [
    ...holds.map((hold) => ({
      type: 'pending' as const,
      id: hold.holdId,
      debitAccountId: hold.wallet,
      creditAccountId: hold.sink,
      amount: hold.amount,
      code: 'hold',
    })),
    ...carbonHolds.map((hold) => ({
      type: 'pending' as const,
      id: holdTransferId(requestId, hold.slot),
      debitAccountId: hold.accountId,
      creditAccountId: carbonPlan?.consumptionAccountId ?? '',
      amount: hold.amount,
      code: 'carbon_hold',
    })),
  ].map((op, index) => ({
    ...op,
    timeoutSeconds: deps.holdTimeoutSeconds,
    userData: { requestId },
    linked: index < chainLength - 1,
    attach: index === 0 ? [{ table: gatewayRequests, row: admissionRow }] : undefined,
  }));
  // Budgets not yet known funded are funded first, in the same batch (no extra round trip), unlinked.
  const fundingOps = carbonPlan?.fundingOps ?? [];
  let results: OpResult[] = [];
  if (holdOps.length > 0) {
    const all = await deps.ledger.submit([...fundingOps, ...holdOps]);
    if (carbonPlan !== undefined) deps.carbon?.funded(carbonPlan, all.slice(0, fundingOps.length));
    results = all.slice(fundingOps.length);
    const refused = results.findIndex((result) => result.ok === false && result.code !== 'linked_event_failed');
    if (refused >= 0 || results.some(failed)) {
      const index = Math.max(refused, 0);
      const result = results[index];
      const carbonHold = index >= holds.length ? carbonHolds[index - holds.length] : undefined;
      if (carbonHold !== undefined && result !== undefined && !result.ok && result.code === 'insufficient_funds') {
        throw (await deps.carbon?.capReached(carbonHold)) ?? new Error('carbon cap reached');
      }
      const hold = holds[index];
      if (hold !== undefined && result !== undefined && !result.ok && result.code === 'insufficient_funds') {
        const balance = await deps.ledger.balance(hold.wallet);
        const currency = currencyByCode(hold.currency);
        throw new InsufficientFundsError(
          `Insufficient ${currency.code} tokens: this request may cost up to ${formatAmount(hold.amount, currency)} and you have ${formatAmount(balance.available, currency)} available. ` +
            'Lower max_tokens (or n), choose a smaller model or a lower priority, or ask your lead for a grant.',
          { estimate: hold.amount.toString(), available: balance.available.toString(), currency: currency.code },
        );
      }
      throw new Error(
        `Placing the hold failed: ${result !== undefined && !result.ok ? `${result.code}: ${result.message}` : 'unknown'}`,
      );
    }
  }
  return {
    ...admitted,
    carbonHolds,
    holds: holds.map(({ currency, holdId, amount, wallet }, index) => {
      const result = results[index];
      return { currency, holdId, amount, wallet, availableAfter: result?.ok ? result.debitAvailable : undefined };
    }),
  };
}

/**
 * Prices what was actually used, from the same price list as the estimate; never above it. Usage
 * past the bound (a field the estimate did not foresee, a server that ignored the cap) charges the
 * whole hold: an over-run is paid for, never voided.
 */
export function priceUsage(
  admission: Admission,
  completion: Completion,
  profiles: Record<string, CarbonModelProfile>,
): Charge {
  const { estimate } = admission;
  const inputTokens = Math.min(completion.usage.promptTokens, estimate.promptTokensBound);
  const outputTokens = Math.min(completion.usage.completionTokens, estimate.completionTokensBound);
  let overrun: Charge['overrun'] =
    completion.usage.promptTokens > estimate.promptTokensBound
      ? 'prompt'
      : completion.usage.completionTokens > estimate.completionTokensBound
        ? 'completion'
        : undefined;
  const carbon = usageCarbonOf(
    modelCarbonOf(admission.model, admission.priceList, profiles, completion.cluster),
    completion.cluster,
    { outputTokens, latencySeconds: completion.latencyMs / 1000 },
  );
  // The internal carbon price charges the total, operational + embodied.
  let cost = quoteCost(admission.priceList.list, {
    modelId: admission.model,
    tier: admission.tier,
    inputTokens,
    outputTokens,
    co2eMicrograms: admission.priceList.list.carbonPrice === undefined ? undefined : carbon.co2eMicrograms,
  });
  if (overrun === undefined && costBeyondEstimate(estimate, cost) !== undefined) overrun = 'cost';
  if (overrun !== undefined) cost = estimate.cost;
  assertCostWithinEstimate(estimate, cost);
  return { cost, carbon, co2eMicrograms: carbon.co2eMicrograms, energyMicroWh: carbon.energyMicroWh, overrun };
}

/**
 * The charge, final: posts each hold for the actual cost (the rest returns to the wallet) and
 * writes the usage row and, unless it is system usage, the settlement outbox row, in one
 * transaction. Returns what each carbon budget has posted after it, in `carbonHolds` order
 * (undefined where the ledger did not say, as on a replay).
 */
export async function charge(
  ledger: Ledger,
  admission: Admission,
  completion: Completion,
  priced: Charge,
  payload: Record<string, unknown>,
): Promise<(bigint | undefined)[]> {
  const modelCurrency = admission.priceList.list.models[admission.model]?.currency ?? 'innovation';
  const feeCurrency = Object.keys(priced.cost.totals).find((currency) => currency !== modelCurrency) ?? null;
  const usageRow = {
    requestId: admission.requestId,
    orgId: admission.principal.orgId,
    userId: admission.principal.userId,
    teamId: admission.principal.teamId,
    keyId: admission.principal.keyId,
    model: admission.model,
    cluster: completion.cluster.name,
    replica: completion.replica,
    tier: admission.tier,
    // As reported (an over-run shows), within the column's range.
    promptTokens: Math.min(completion.usage.promptTokens, int32Max),
    completionTokens: Math.min(completion.usage.completionTokens, int32Max),
    currency: modelCurrency,
    cost: priced.cost.totals[modelCurrency] ?? 0n,
    feeCurrency,
    fee: feeCurrency === null ? null : (priced.cost.totals[feeCurrency] ?? 0n),
    priceListVersion: admission.priceList.version,
    latencyMs: Math.round(completion.latencyMs),
    ttftMs: completion.ttftMs === undefined ? null : Math.round(completion.ttftMs),
    co2eMicrograms: priced.carbon.co2eMicrograms,
    operationalCo2eMicrograms: priced.carbon.operationalCo2eMicrograms,
    embodiedCo2eMicrograms: priced.carbon.embodiedCo2eMicrograms,
    marketCo2eMicrograms: priced.carbon.marketCo2eMicrograms,
    carbonMethodology: priced.carbon.carbonMethodology,
    carbonAssumed: priced.carbon.carbonAssumed,
    energyMicroWh: priced.carbon.energyMicroWh,
    endUser: completion.endUser,
    tags: completion.tags,
    ...evidenceColumnsOf(completion.tags),
    system: admission.system,
    outcome: completion.outcome,
  };
  const attach: NonNullable<LedgerOp['attach']> = [
    { table: usageRecords, row: usageRow },
    { table: requestPayloads, row: { requestId: admission.requestId, ...payload } },
  ];
  if (!admission.system) attach.push({ table: outbox, row: { requestId: admission.requestId, kind: 'settle' } });
  const chainLength = admission.holds.length + admission.carbonHolds.length;
  const ops: LedgerOp[] = [
    ...admission.holds.map((hold) => ({
      type: 'post' as const,
      id: chargeTransferId(admission.requestId, hold.currency),
      pendingId: hold.holdId,
      amount: priced.cost.totals[hold.currency] ?? 0n,
      code: 'charge',
    })),
    // What was emitted, never above the hold; an over-run charges the whole hold.
    ...admission.carbonHolds.map((hold) => ({
      type: 'post' as const,
      id: chargeTransferId(admission.requestId, hold.slot),
      pendingId: holdTransferId(admission.requestId, hold.slot),
      amount: priced.overrun !== undefined || priced.co2eMicrograms > hold.amount ? hold.amount : priced.co2eMicrograms,
      code: 'carbon_charge',
    })),
  ].map((op, index) => ({ ...op, linked: index < chainLength - 1, attach: index === 0 ? attach : undefined }));
  if (ops.length === 0) return [];
  const results = await ledger.submit(ops);
  const problem = results.find((result) => !result.ok);
  if (problem !== undefined && !problem.ok)
    throw new Error(`Charging request ${admission.requestId} failed: ${problem.code}: ${problem.message}`);
  return results.slice(admission.holds.length).map((result) => (result.ok ? result.debitPosted : undefined));
}

/** Nobody pays for an error: releases every hold of the request. */
export async function release(ledger: Ledger, admission: Admission, reason: string): Promise<void> {
  if (admission.holds.length === 0 && admission.carbonHolds.length === 0) return;
  const results = await ledger.submit([
    ...admission.holds.map((hold) => ({
      type: 'void' as const,
      id: voidTransferId(admission.requestId, hold.currency),
      pendingId: hold.holdId,
      userData: { reason: reason.slice(0, 200) },
    })),
    ...admission.carbonHolds.map((hold) => ({
      type: 'void' as const,
      id: voidTransferId(admission.requestId, hold.slot),
      pendingId: holdTransferId(admission.requestId, hold.slot),
      userData: { reason: reason.slice(0, 200) },
    })),
  ]);
  const problem = results.find((result) => !result.ok && result.code !== 'pending_already_voided');
  if (problem !== undefined && !problem.ok)
    throw new Error(`Releasing the holds of ${admission.requestId} failed: ${problem.code}: ${problem.message}`);
}
