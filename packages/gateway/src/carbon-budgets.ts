import { formatAmount, carbonCurrency, type CarbonScope } from '@tokenwise/core';
import {
  budgetFundingOps,
  budgetUse,
  capKey,
  createBudgetPeriods,
  fundedBy,
  loadCarbonSnapshot,
  type BudgetPeriod,
  type CarbonCapEntry,
  type CarbonSnapshot,
} from '@tokenwise/control';
import { currentCarbonCap, esgOfficersOf, recordNotificationsOnce, type Db } from '@tokenwise/db';
import {
  carbonBudgetKey,
  carbonSourceKey,
  createAccountLookup,
  type Ledger,
  type OpResult,
  type TransferOp,
} from '@tokenwise/ledger';
import { GatewayError } from './openai-error';
import type { Principal } from './ports';

/** One carbon hold a request needs: on its user's, team's or org's budget for this period. */
export interface CarbonHold {
  scope: CarbonScope;
  scopeId: string;
  /** The hold id's suffix: `hold-<requestId>-carbon-<scope>`. */
  slot: string;
  accountId: string;
  amount: bigint;
  cap: CarbonCapEntry;
  period: BudgetPeriod;
  timeZone: string;
}

export interface CarbonPlan {
  /** Unlinked transfers funding budgets not yet known funded, submitted before the holds. */
  fundingOps: TransferOp[];
  holds: CarbonHold[];
  consumptionAccountId: string;
}

export interface CarbonBudgets {
  /**
   * The carbon holds a principal's request needs now, with the funding of any budget this process
   * has not seen funded; undefined when no cap binds it (nothing to hold, nothing computed).
   * `bound` is called only when some cap binds.
   */
  plan(principal: Principal, bound: () => bigint): Promise<CarbonPlan | undefined>;
  /** Records which budgets the submitted funding ops funded (results in the ops' order). */
  funded(plan: CarbonPlan, results: readonly OpResult[]): void;
  /** The 429 for a refused carbon hold: which cap, what is left, when it resets, how to ask for a raise. */
  capReached(hold: CarbonHold): Promise<GatewayError>;
  /**
   * After a charge: records a soft-threshold notification once per threshold, period and recipient.
   * `posted` is what each budget has posted after the charge, in `holds` order, as the charge returned it.
   */
  afterCharge(principal: Principal, holds: readonly CarbonHold[], posted: readonly (bigint | undefined)[]): void;
}

/** How long an org's caps are served from memory before they are reread in the background. */
export const carbonSnapshotRefreshMsDefault = 2_000;
const fundedCacheEntriesMax = 100_000;

const ownerName: Record<CarbonScope, string> = { user: 'your', team: "your team's", org: "your org's" };

export function createCarbonBudgets(deps: {
  db: Db;
  ledger: Ledger;
  now?: () => Date;
  refreshMs?: number;
  log?: (line: string) => void;
}): CarbonBudgets {
  const now = deps.now ?? (() => new Date());
  const refreshMs = deps.refreshMs ?? carbonSnapshotRefreshMsDefault;
  const log = deps.log ?? ((line: string) => process.stderr.write(`carbon: ${line}\n`));
  const periods = createBudgetPeriods();
  const account = createAccountLookup((key) => deps.ledger.ensureAccount(key));
  const snapshots = new Map<string, { snapshot: CarbonSnapshot; loadedAt: number; refreshing: boolean }>();
  const loading = new Map<string, Promise<CarbonSnapshot>>();
  const fundedAccounts = new Set<string>();
  const notified = new Set<string>();
  const checks = new Map<string, { again: boolean }>();

  const load = (orgId: string): Promise<CarbonSnapshot> => {
    let pending = loading.get(orgId);
    if (pending === undefined) {
      pending = loadCarbonSnapshot(deps.db, orgId)
        .then((snapshot) => {
          snapshots.set(orgId, { snapshot, loadedAt: Date.now(), refreshing: false });
          return snapshot;
        })
        .finally(() => loading.delete(orgId));
      loading.set(orgId, pending);
    }
    return pending;
  };

  const snapshotOf = async (orgId: string): Promise<CarbonSnapshot> => {
    const entry = snapshots.get(orgId);
    if (entry === undefined) return load(orgId);
    if (Date.now() - entry.loadedAt > refreshMs && !entry.refreshing) {
      entry.refreshing = true;
      load(orgId).catch((error: unknown) => {
        entry.refreshing = false;
        log(`rereading the carbon caps of org ${orgId} failed (${(error as Error).message}); the last ones stay`);
      });
    }
    return entry.snapshot;
  };

  const bindingCaps = (snapshot: CarbonSnapshot, principal: Principal): CarbonCapEntry[] => {
    if (snapshot.caps.size === 0) return [];
    const caps: CarbonCapEntry[] = [];
    const add = (scope: CarbonScope, id: string | null) => {
      const cap = id === null ? undefined : snapshot.caps.get(capKey(scope, id));
      if (cap !== undefined) caps.push(cap);
    };
    add('user', principal.userId);
    add('team', principal.teamId);
    add('org', principal.orgId);
    return caps;
  };

  return {
    async plan(principal, bound) {
      const snapshot = await snapshotOf(principal.orgId);
      const caps = bindingCaps(snapshot, principal);
      if (caps.length === 0) return undefined;
      const amount = bound();
      const instant = now();
      const [source, consumption] = await Promise.all([
        account(carbonSourceKey(principal.orgId)),
        account({ ownerType: 'system', ownerId: 'consumption', currency: 'carbon', purpose: 'consumption' }),
      ]);
      const plan: CarbonPlan = { fundingOps: [], holds: [], consumptionAccountId: consumption.id };
      for (const cap of caps) {
        const period = periods(instant, snapshot.timeZone, cap.period);
        const budget = await account(
          carbonBudgetKey({ orgId: principal.orgId, scope: cap.scope, scopeId: cap.scopeId, period: period.period }),
        );
        if (!fundedAccounts.has(budget.id))
          plan.fundingOps.push(
            ...budgetFundingOps({
              budgetAccountId: budget.id,
              sourceAccountId: source.id,
              scope: cap.scope,
              scopeId: cap.scopeId,
              capVersion: cap.version,
              hardMicrograms: cap.hardMicrograms,
              period: period.period,
              periodStartDate: period.startDate,
              untilRaises: snapshot.untilRaises,
            }),
          );
        if (!fundedAccounts.has(budget.id) && cap.hardMicrograms === 0n) fundedAccounts.add(budget.id);
        plan.holds.push({
          scope: cap.scope,
          scopeId: cap.scopeId,
          slot: `carbon-${cap.scope}`,
          accountId: budget.id,
          amount,
          cap,
          period,
          timeZone: snapshot.timeZone,
        });
      }
      return plan;
    },

    funded(plan, results) {
      plan.fundingOps.forEach((op, index) => {
        const result = results[index];
        if (result === undefined || !fundedBy(result)) {
          if (result !== undefined && !result.ok) log(`funding ${op.id} failed: ${result.code}: ${result.message}`);
          return;
        }
        if (fundedAccounts.size >= fundedCacheEntriesMax) fundedAccounts.clear();
        // Every funding op of an account has to land before the account counts as funded.
        const all = plan.fundingOps.every(
          (other, otherIndex) =>
            other.creditAccountId !== op.creditAccountId || fundedBy(results[otherIndex] ?? { ok: false }),
        );
        if (all) fundedAccounts.add(op.creditAccountId);
      });
      for (const hold of plan.holds)
        if (!plan.fundingOps.some((op) => op.creditAccountId === hold.accountId)) fundedAccounts.add(hold.accountId);
    },

    async capReached(hold) {
      const { available } = await deps.ledger.balance(hold.accountId);
      const grams = (micrograms: bigint) => `${formatAmount(micrograms, carbonCurrency)} g CO2e`;
      const kind = hold.cap.period === 'month' ? 'monthly' : 'quarterly';
      const scopeArg = hold.scope === 'team' ? `scope: 'team', teamId: '${hold.scopeId}'` : `scope: '${hold.scope}'`;
      return new GatewayError(
        429,
        `Carbon cap reached: ${ownerName[hold.scope]} ${kind} carbon budget (${hold.scope} cap ${grams(hold.cap.hardMicrograms)}) ` +
          `has ${grams(available)} left and this request may emit up to ${grams(hold.amount)}. ` +
          `It resets at ${hold.period.end.toISOString()} (start of the period after ${hold.period.period}, org time zone ${hold.timeZone}). ` +
          `Lower max_tokens or use a smaller model, or ask an ESG officer for a raise: carbon.requestRaise({ ${scopeArg}, grams, reason }) ` +
          `through the API, or /carbon in Slack.`,
        'insufficient_quota',
        'carbon_cap_reached',
        null,
        { 'x-should-retry': 'false' },
      );
    },

    afterCharge(principal, holds, posted) {
      holds.forEach((hold, index) => {
        const percent = hold.cap.softPercent;
        if (percent === null || hold.cap.hardMicrograms === 0n) return;
        const memo = `${hold.accountId}:${percent}`;
        if (notified.has(memo)) return;
        // What the charge left posted bounds what was emitted from above (cap cuts are debits
        // too): below the threshold, nothing to read. Only a replay, which the ledger does not
        // report on, reads the budget to find out.
        const threshold = (hold.cap.hardMicrograms * BigInt(percent)) / 100n;
        const postedAfter = posted[index];
        if (postedAfter !== undefined && postedAfter < threshold) return;
        // One check per budget at a time; charges during a check ask for one more after it.
        const state = checks.get(memo);
        if (state !== undefined) {
          state.again = true;
          return;
        }
        const run = { again: false };
        checks.set(memo, run);
        const loop = async () => {
          do {
            run.again = false;
            await checkSoftThreshold(principal, hold, memo);
          } while (run.again && !notified.has(memo));
        };
        void loop()
          .catch((error: unknown) =>
            log(`checking the soft threshold of ${hold.accountId} failed: ${(error as Error).message}`),
          )
          .finally(() => checks.delete(memo));
      });
    },
  };

  async function checkSoftThreshold(principal: Principal, hold: CarbonHold, memo: string) {
    // The snapshot may be a refresh behind a cap change: decide on the cap as it is now.
    const cap = await currentCarbonCap(deps.db, { scope: hold.scope, scopeId: hold.scopeId });
    const hard = cap?.hardMicrograms ?? null;
    if (cap === undefined || hard === null || hard === 0n || cap.softPercent === null) return;
    if (cap.period !== hold.cap.period) return;
    const threshold = (hard * BigInt(cap.softPercent)) / 100n;
    const { used } = await budgetUse(deps, hold.accountId, cap.version);
    if (used < threshold) return;
    const officers = await esgOfficersOf(deps.db, { orgId: principal.orgId });
    const recipients = new Set<string | null>(officers);
    if (principal.userId !== null) recipients.add(principal.userId);
    const payload = {
      scope: hold.scope,
      scopeId: hold.scopeId,
      period: hold.period.period,
      softPercent: cap.softPercent,
      capMicrograms: hard,
      usedMicrograms: used,
      resetsAt: hold.period.end.toISOString(),
    };
    await recordNotificationsOnce(
      deps.db,
      [...recipients].map((userId) => ({
        orgId: principal.orgId,
        userId,
        kind: 'carbon_soft_threshold',
        payload,
        dedupeKey: `carbon-soft:${hold.accountId}:${cap.softPercent}:${userId ?? 'org'}`,
      })),
    );
    notified.add(memo);
    if (notified.size > fundedCacheEntriesMax) notified.clear();
  }
}
