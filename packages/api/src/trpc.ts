import { ForbiddenError, UnauthenticatedError } from '@tokenwise/core';
import type { Role } from '@tokenwise/db/schema';
import { initTRPC, TRPCError } from '@trpc/server';
import type { Context } from './context';
import { invalidFields, toTrpcError } from './errors';
import { bodyBytesMax, submitResultsBytesMax, submitResultsPath } from './limits';
import { apiTransformer } from './transformer';

const isDev = process.env.NODE_ENV === 'development';

const t = initTRPC.context<Context>().create({
  transformer: apiTransformer,
  isDev,
  errorFormatter({ shape, error }) {
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    const fields = error.code === 'BAD_REQUEST' ? invalidFields(error.cause) : [];
    const message =
      error.code === 'PAYLOAD_TOO_LARGE'
        ? `The request body is over ${bodyBytesMax} bytes, the most a call takes (${submitResultsBytesMax} for ${submitResultsPath.slice(1)} sent alone, unbatched): send less, e.g. in several calls.`
        : fields.length > 0 && !error.message.includes(fields[0] ?? '')
          ? `Invalid ${fields.join(', ')}: ${error.message}`
          : error.message;
    return {
      ...shape,
      message: internal && !isDev ? 'Internal server error.' : message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        fields,
        ...(isDev ? { stack: shape.data.stack } : {}),
      },
    };
  },
});

/** Every domain error leaves through here as its TRPCError code: the one mapping point. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTrpcError(result.error);
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapDomainErrors);

/** A procedure for signed-in users; `ctx.user` is narrowed to non-null. */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.user === null) {
    const failure =
      ctx.authFailure ??
      new UnauthenticatedError('Sign in: send `Authorization: Bearer tw_...` with an API key that has the api scope.');
    throw new TRPCError({
      code: failure instanceof ForbiddenError ? 'FORBIDDEN' : 'UNAUTHORIZED',
      message: failure.message,
      cause: failure,
    });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});

/** A procedure for users holding at least one of `roles`; FORBIDDEN otherwise. */
export function roleProcedure(...roles: [Role, ...Role[]]) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!ctx.user.roles.some((role) => roles.includes(role))) {
      throw new TRPCError({
        code: 'FORBIDDEN',
        message: `This needs the role ${roles.join(' or ')}; you have ${ctx.user.roles.join(', ') || 'none'}.`,
      });
    }
    return next({ ctx });
  });
}

/** The audit actor for a user acting through the API. */
export const actorOf = (user: { userId: string }) => `user:${user.userId}`;

/**
 * A procedure for an experimentation platform: only a service key with the experiments scope, never
 * a person's key (whatever their role); `ctx.service` is narrowed to non-null.
 */
export const experimentsProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.service !== null) return next({ ctx: { ...ctx, service: ctx.service } });
  if (ctx.user !== null || ctx.authFailure instanceof ForbiddenError)
    throw new TRPCError({
      code: 'FORBIDDEN',
      message:
        'experiments.* needs a service key with the experiments scope (an admin creates one with admin.createServiceKey); a person’s own key may not submit results.',
    });
  throw new TRPCError({
    code: 'UNAUTHORIZED',
    message:
      ctx.authFailure?.message ??
      'Send `Authorization: Bearer tw_...` with a service key that has the experiments scope.',
  });
});
