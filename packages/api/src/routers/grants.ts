import { amountMax, currencies, currencyByCode, NotFoundError, UnknownCurrencyError } from '@tokenwise/core';
import {
  allowanceOverlapWarnings,
  listAllowanceSchedules,
  findOrgTimeZone,
  listJudgeBudgets,
  ownerInOrg,
  setAllowanceSchedule,
  type AllowanceSchedule,
} from '@tokenwise/db';
import { roles } from '@tokenwise/db/schema';
import { applyJudgeBudget, createIssuanceMeter, findAccount, judgeWalletKey, type AccountKey } from '@tokenwise/ledger';
import { z } from 'zod';
import type { Context } from '../context';
import { grantIdLengthMax, reasonLengthMax } from '../limits';
import { actorOf, roleProcedure, router } from '../trpc';

const ownerTypes = ['user', 'team', 'org'] as const;

/** The owner exists in the caller's org; anything else is NOT_FOUND. */
async function assertOwnerInOrg(
  db: Context['db'],
  params: { ownerType: (typeof ownerTypes)[number]; ownerId: string; orgId: string },
): Promise<void> {
  if (!(await ownerInOrg(db, params))) throw new NotFoundError(`No ${params.ownerType} ${params.ownerId} in your org.`);
}

/** A currency code that currencyByCode knows, refused as an issue on the `currency` field otherwise. */
const knownCurrency = z
  .string()
  .min(1)
  .max(32)
  .default('innovation')
  .superRefine((code, ctx) => {
    try {
      currencyByCode(code);
    } catch (error) {
      if (!(error instanceof UnknownCurrencyError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
    }
  });

const scheduleColumns = (schedule: AllowanceSchedule) => ({
  role: schedule.role,
  currency: schedule.currency,
  amount: schedule.amount,
  updatedBy: schedule.updatedBy,
  updatedAt: schedule.updatedAt.toISOString(),
});

const grantTarget = {
  ownerType: z.enum(ownerTypes),
  ownerId: z.uuid(),
  currency: z.string().min(1).max(32).default('innovation'),
  amount: z.bigint().positive(),
};

/**
 * Issues an idempotent grant into the caller's org's account `key`, and answers with what it now
 * holds. `id` is unique within the org only: the ledger namespaces it (`transferId`).
 */
async function grantInto(
  ctx: { db: Context['db']; ledger: Context['ledger']; user: { orgId: string; userId: string } },
  key: Omit<AccountKey, 'orgId'>,
  input: { id: string; amount: bigint; reason: string },
) {
  const account = await ctx.ledger.ensureAccount({ ...key, orgId: ctx.user.orgId });
  const { transfer, duplicate } = await ctx.ledger.grant({
    id: input.id,
    to: account.id,
    currency: key.currency,
    amount: input.amount,
    actor: actorOf(ctx.user),
    reason: input.reason,
    orgId: ctx.user.orgId,
  });
  const balance = await ctx.ledger.balance(account.id);
  return {
    id: input.id,
    transferId: transfer.id,
    duplicate,
    accountId: account.id,
    currency: key.currency,
    amount: transfer.amount,
    available: balance.available,
    createdAt: transfer.createdAt.toISOString(),
  };
}

export const grantsRouter = router({
  /**
   * Issues this month's allowance (months in the org's time zone) to a user, team or the org (admin).
   * Its id derives from account and month, so running it again in the same month grants nothing twice.
   */
  allowance: roleProcedure('admin')
    .input(z.object(grantTarget))
    .mutation(async ({ ctx, input }) => {
      const currency = currencyByCode(input.currency);
      await assertOwnerInOrg(ctx.db, { ownerType: input.ownerType, ownerId: input.ownerId, orgId: ctx.user.orgId });
      const timeZone = await findOrgTimeZone(ctx.db, { orgId: ctx.user.orgId });
      if (timeZone === undefined) throw new NotFoundError(`No org ${ctx.user.orgId}.`);
      const wallet = await ctx.ledger.ensureAccount({
        ownerType: input.ownerType,
        ownerId: input.ownerId,
        orgId: ctx.user.orgId,
        currency: currency.code,
        purpose: 'wallet',
      });
      const result = await ctx.ledger.grantAllowance({
        to: wallet.id,
        currency: currency.code,
        amount: input.amount,
        at: new Date(),
        timeZone,
        actor: actorOf(ctx.user),
        orgId: ctx.user.orgId,
      });
      return {
        transferId: result.transfer.id,
        duplicate: result.duplicate,
        period: result.period,
        timeZone,
        accountId: wallet.id,
        currency: currency.code,
        amount: result.transfer.amount,
      };
    }),

  /**
   * Sets what every user holding `role` in the caller's org is granted each month (admin); amount 0
   * removes the schedule. The worker grants it hourly, at most once per user, currency and month, so
   * a changed amount reaches users already granted this month from next month on. `warnings` names
   * roles whose schedules share a currency: a user holding several gets only one of them.
   */
  setAllowanceSchedule: roleProcedure('admin')
    .input(z.object({ role: z.enum(roles), currency: knownCurrency, amount: z.bigint().min(0n).max(amountMax) }))
    .mutation(async ({ ctx, input }) => {
      const stored = await setAllowanceSchedule(ctx.db, {
        orgId: ctx.user.orgId,
        role: input.role,
        currency: input.currency,
        amount: input.amount,
        actor: actorOf(ctx.user),
      });
      const sameCurrency = (await listAllowanceSchedules(ctx.db, { orgId: ctx.user.orgId })).filter(
        (schedule) => schedule.currency === input.currency,
      );
      const warnings = allowanceOverlapWarnings(sameCurrency);
      return stored === undefined
        ? { role: input.role, currency: input.currency, amount: 0n, removed: true as const, warnings }
        : { ...scheduleColumns(stored), removed: false as const, warnings };
    }),

  /** The caller's org's monthly allowance schedules, by role then currency (admin). */
  allowanceSchedules: roleProcedure('admin').query(async ({ ctx }) =>
    (await listAllowanceSchedules(ctx.db, { orgId: ctx.user.orgId })).map(scheduleColumns),
  ),

  /**
   * The caller's org's grant bounds per currency (set by the platform operator) and what the org
   * issued and has left this month, in its time zone (admin). Grants, allowances and judge budgets count.
   */
  issuance: roleProcedure('admin').query(async ({ ctx }) => {
    const meter = createIssuanceMeter(ctx.db, (key) => ctx.ledger.ensureAccount(key));
    const at = new Date();
    return Promise.all(
      currencies.map(async (currency) => {
        const status = await meter.status({ orgId: ctx.user.orgId, currency: currency.code, at });
        return {
          currency: currency.code,
          grantAmountMax: status.bounds.grantAmountMax,
          monthlyIssuanceMax: status.bounds.monthlyIssuanceMax,
          configured: status.configured,
          issuedThisMonth: status.issuedThisMonth,
          left: status.left,
          period: status.period,
          timeZone: status.timeZone,
        };
      }),
    );
  }),

  /** Issues tokens to a user, team or the org (admin). `id` makes it idempotent: a retry moves nothing twice. */
  issue: roleProcedure('admin')
    .input(
      z.object({
        id: z.string().trim().min(1).max(grantIdLengthMax),
        ownerType: z.enum(ownerTypes),
        ownerId: z.uuid(),
        currency: z.string().min(1).max(32).default('innovation'),
        amount: z.bigint().positive(),
        reason: z.string().trim().min(1).max(reasonLengthMax),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const currency = currencyByCode(input.currency);
      await assertOwnerInOrg(ctx.db, { ownerType: input.ownerType, ownerId: input.ownerId, orgId: ctx.user.orgId });
      return grantInto(
        ctx,
        { ownerType: input.ownerType, ownerId: input.ownerId, currency: currency.code, purpose: 'wallet' },
        input,
      );
    }),

  /**
   * Funds the org's reward pool (admin): settlements pay rewards for valuable work out of it, never
   * more than it holds, so its size is the org's reward budget. `id` makes it idempotent.
   */
  fundRewardPool: roleProcedure('admin')
    .input(
      z.object({
        id: z.string().trim().min(1).max(grantIdLengthMax),
        currency: z.string().min(1).max(32).default('priority'),
        amount: z.bigint().positive(),
        reason: z.string().trim().min(1).max(reasonLengthMax),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const currency = currencyByCode(input.currency);
      return grantInto(
        ctx,
        { ownerType: 'org', ownerId: ctx.user.orgId, currency: currency.code, purpose: 'reward_pool' },
        input,
      );
    }),

  /**
   * Sets what the org's judge wallet is funded with each month from the org's issuance (admin,
   * audited); amount 0 removes the budget. The judge's calls scoring the org's requests are paid from
   * that wallet; when it is empty, settlements record the llm judge as not applicable. The first
   * budget of a month is funded at once; a changed amount applies from next month (top the wallet
   * up now with fundJudgeWallet).
   */
  setJudgeBudget: roleProcedure('admin')
    .input(z.object({ currency: knownCurrency, amount: z.bigint().min(0n).max(amountMax) }))
    .mutation(async ({ ctx, input }) => {
      const { walletId, thisMonth } = await applyJudgeBudget(ctx.db, ctx.ledger, {
        orgId: ctx.user.orgId,
        currency: input.currency,
        amount: input.amount,
        actor: actorOf(ctx.user),
      });
      const balance = await ctx.ledger.balance(walletId);
      return {
        currency: input.currency,
        amount: input.amount,
        removed: input.amount === 0n,
        thisMonth,
        walletAvailable: balance.available,
      };
    }),

  /** The org's judge budgets and what its judge wallet holds per currency (admin). */
  judgeBudget: roleProcedure('admin').query(async ({ ctx }) => {
    const budgets = await listJudgeBudgets(ctx.db, { orgId: ctx.user.orgId });
    return Promise.all(
      currencies.map(async (currency) => {
        const wallet = await findAccount(ctx.db, judgeWalletKey({ orgId: ctx.user.orgId, currency: currency.code }));
        const budget = budgets.find((row) => row.currency === currency.code);
        return {
          currency: currency.code,
          monthlyAmount: budget?.amount ?? 0n,
          updatedBy: budget?.updatedBy ?? null,
          walletAvailable: wallet === undefined ? 0n : (await ctx.ledger.balance(wallet.id)).available,
        };
      }),
    );
  }),

  /** Tops the org's judge wallet up now, from the org's issuance within its bounds (admin). `id` makes it idempotent. */
  fundJudgeWallet: roleProcedure('admin')
    .input(
      z.object({
        id: z.string().trim().min(1).max(grantIdLengthMax),
        currency: knownCurrency,
        amount: z.bigint().positive(),
        reason: z.string().trim().min(1).max(reasonLengthMax),
      }),
    )
    .mutation(({ ctx, input }) =>
      grantInto(ctx, judgeWalletKey({ orgId: ctx.user.orgId, currency: input.currency }), input),
    ),
});
