import {
  decideRaise,
  listRaises,
  raiseNoteCharsMax,
  raiseReasonCharsMax,
  raiseView,
  requestRaise,
} from '@tokenwise/control';
import { carbonScopes, microgramsToGrams } from '@tokenwise/core';
import { z } from 'zod';
import { authedProcedure, roleProcedure } from '../trpc';

const raiseStates = ['pending', 'approved', 'denied'] as const;

/** carbon.requestRaise, carbon.decideRaise, carbon.raises: raising a carbon cap, approved by ESG officers. */
export const carbonRaiseProcedures = {
  /**
   * Asks to raise a carbon cap by `grams` for the current period, or each period through `until`
   * (YYYY-MM-DD in the org's time zone): a user their own, a lead their team's, ESG officers and
   * admins the org's. ESG officers are notified; nobody deciding by the deadline (3 days unless configured) denies it.
   */
  requestRaise: authedProcedure
    .input(
      z.object({
        scope: z.enum(carbonScopes),
        teamId: z.uuid().optional(),
        grams: z.number().positive(),
        reason: z.string().trim().min(1).max(raiseReasonCharsMax),
        until: z.iso.date().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { raiseId } = await requestRaise(ctx.db, ctx.user, { ...input, deadlineMs: ctx.carbonRaiseDeadlineMs });
      return { raiseId };
    }),

  /**
   * An ESG officer approves (all that was asked, or `grams` of it) or denies a raise. The first
   * decision wins; a later one is CONFLICT naming who decided. An approval's grant is in the budget
   * when this returns.
   */
  decideRaise: roleProcedure('esg')
    .input(
      z.object({
        raiseId: z.uuid(),
        decision: z.enum(['approve', 'deny']),
        grams: z.number().positive().optional(),
        note: z.string().max(raiseNoteCharsMax).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const raise = await decideRaise({ db: ctx.db, ledger: ctx.ledger }, ctx.user, input);
      return {
        raiseId: raise.id,
        state: raise.state,
        decidedBy: raise.decidedBy,
        grantedGrams: raise.grantedMicrograms === null ? null : microgramsToGrams(raise.grantedMicrograms),
      };
    }),

  /** Raises the caller may see, newest first: ESG officers and admins the org's, a lead their team's and their own, anyone else their own. */
  raises: authedProcedure
    .input(z.object({ state: z.enum(raiseStates).optional() }).optional())
    .query(async ({ ctx, input }) => (await listRaises(ctx.db, ctx.user, { state: input?.state })).map(raiseView)),
};
