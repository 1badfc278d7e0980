import { currencies } from '@tokenwise/core';
import { findAccount } from '@tokenwise/ledger';
import { z } from 'zod';
import { pageSize } from '../inputs';
import { authedProcedure, router } from '../trpc';
import { listUsage } from '../usage-queries';
import { meGithubProcedures } from './github';

export const meRouter = router({
  ...meGithubProcedures,
  /** Who the caller is: ids and roles, nothing else. */
  profile: authedProcedure.query(({ ctx }) => ({
    userId: ctx.user.userId,
    orgId: ctx.user.orgId,
    teamId: ctx.user.teamId,
    roles: [...ctx.user.roles],
  })),

  /** The caller's wallet in every currency; a currency without a wallet yet shows zeros. */
  balances: authedProcedure.query(async ({ ctx }) => {
    return Promise.all(
      currencies.map(async (currency) => {
        const account = await findAccount(ctx.db, {
          ownerType: 'user',
          ownerId: ctx.user.userId,
          currency: currency.code,
          purpose: 'wallet',
        });
        if (account === undefined)
          return { currency: currency.code, accountId: null, available: 0n, posted: 0n, held: 0n };
        const balance = await ctx.ledger.balance(account.id);
        return {
          currency: currency.code,
          accountId: account.id,
          available: balance.available,
          posted: balance.posted,
          held: balance.debitsPending,
        };
      }),
    );
  }),

  /** The caller's own latest requests with cost, gCO2e and value score. */
  recentUsage: authedProcedure
    .input(z.object({ limit: pageSize }).default({ limit: 20 }))
    .query(async ({ ctx, input }) => {
      const page = await listUsage(ctx.db, { visible: { userId: ctx.user.userId }, limit: input.limit });
      return page.items;
    }),
});
