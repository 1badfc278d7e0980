import { NotFoundError } from '@tokenwise/core';
import { z } from 'zod';
import { cursor, isoTime, pageSize } from '../inputs';
import { modelNameLengthMax, requestIdLengthMax } from '../limits';
import { usageVisibleTo } from '../scope';
import { authedProcedure, router } from '../trpc';
import { findUsage, listUsage } from '../usage-queries';

export const usageRouter = router({
  /** Usage the caller may see (own; a lead the team's; an admin the org's), newest first. */
  list: authedProcedure
    .input(
      z.object({
        model: z.string().min(1).max(modelNameLengthMax).optional(),
        userId: z.uuid().optional(),
        from: isoTime.optional(),
        to: isoTime.optional(),
        cursor: cursor.optional(),
        limit: pageSize,
      }),
    )
    .query(({ ctx, input }) => listUsage(ctx.db, { ...input, visible: usageVisibleTo(ctx.user) })),

  /** One request's usage and settlement; NOT_FOUND when it does not exist or is not the caller's to see. */
  byId: authedProcedure
    .input(z.object({ requestId: z.string().min(1).max(requestIdLengthMax) }))
    .query(async ({ ctx, input }) => {
      const usage = await findUsage(ctx.db, { visible: usageVisibleTo(ctx.user), requestId: input.requestId });
      if (usage === undefined) throw new NotFoundError(`No request ${input.requestId} that you may see.`);
      return usage;
    }),
});
