import { NotFoundError } from '@tokenwise/core';
import { findGithubAccount, linkGithubAccount, unlinkGithubAccount, type GithubAccount } from '@tokenwise/db';
import {
  GithubUnavailableError,
  pollGithubLink,
  startGithubLink,
  type GithubConfig,
  type GithubLinkConfig,
} from '@tokenwise/control';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { actorOf, authedProcedure, roleProcedure } from '../trpc';

/** A GitHub login as GitHub allows it: 1..39 letters, digits and single inner hyphens. */
export const githubLoginSchema = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/,
    'must be a GitHub login: 1 to 39 letters, digits or single hyphens, not starting or ending with one',
  );

function linkConfigOf(github: GithubConfig | undefined): GithubLinkConfig {
  if (github?.oauthClientId === undefined)
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message:
        'GitHub login linking is not configured: the operator sets GITHUB_OAUTH_CLIENT_ID (a GitHub OAuth app with device flow enabled); until then an admin can link your login.',
    });
  return { clientId: github.oauthClientId, webUrl: github.webUrl, apiUrl: github.apiUrl };
}

/** GitHub down or off-contract is an outage the caller retries, not a server bug. */
async function askingGithub<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GithubUnavailableError)
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: error.message, cause: error });
    throw error;
  }
}

const shown = (account: GithubAccount | undefined) =>
  account === undefined
    ? null
    : {
        login: account.login,
        githubUserId: account.githubUserId,
        provenVia: account.provenVia,
        linkedAt: account.linkedAt.toISOString(),
      };

/** `me.linkGithub` and `me.github`: a user proves their own GitHub login. */
export const meGithubProcedures = {
  /**
   * Without `attemptId`: starts GitHub's device flow (or answers the open attempt) with the code
   * to enter at `verificationUri`. With it: asks GitHub once, no earlier than it allows, and
   * answers the state; `linked` names the proven login. The GitHub token is never kept.
   */
  linkGithub: authedProcedure
    .input(z.object({ attemptId: z.uuid().optional() }).default({}))
    .mutation(async ({ ctx, input }) => {
      const config = linkConfigOf(ctx.github);
      const who = { config, orgId: ctx.user.orgId, userId: ctx.user.userId };
      if (input.attemptId === undefined) {
        const started = await askingGithub(() => startGithubLink(ctx.db, who));
        return { ...started, state: 'pending' as const, expiresAt: started.expiresAt.toISOString() };
      }
      const attemptId = input.attemptId;
      const poll = await askingGithub(() => pollGithubLink(ctx.db, { ...who, attemptId }));
      return poll.state === 'pending'
        ? { ...poll, attemptId, retryAt: poll.retryAt.toISOString() }
        : { ...poll, attemptId };
    }),

  /** The caller's linked GitHub login, or null. */
  github: authedProcedure.query(async ({ ctx }) =>
    shown(await findGithubAccount(ctx.db, { orgId: ctx.user.orgId, userId: ctx.user.userId })),
  ),
};

const adminProcedure = roleProcedure('admin');

/** `admin.linkGithub` and `admin.unlinkGithub`: an admin vouches for a user's login in their own org (audited). */
export const adminGithubProcedures = {
  linkGithub: adminProcedure
    .input(z.object({ userId: z.uuid(), login: githubLoginSchema }))
    .mutation(async ({ ctx, input }) => {
      const result = await linkGithubAccount(ctx.db, {
        orgId: ctx.user.orgId,
        userId: input.userId,
        login: input.login,
        githubUserId: null,
        provenVia: 'admin',
        actor: actorOf(ctx.user),
      });
      if (result === undefined) throw new NotFoundError(`No user ${input.userId} in your org.`);
      if ('heldBy' in result)
        throw new TRPCError({
          code: 'CONFLICT',
          message: `GitHub login ${input.login} is linked to another user of your org: unlink it there first.`,
        });
      return { userId: input.userId, ...shown(result.linked) };
    }),

  unlinkGithub: adminProcedure.input(z.object({ userId: z.uuid() })).mutation(async ({ ctx, input }) => {
    const login = await unlinkGithubAccount(ctx.db, {
      orgId: ctx.user.orgId,
      userId: input.userId,
      actor: actorOf(ctx.user),
    });
    if (login === undefined) throw new NotFoundError(`No GitHub login linked for user ${input.userId} in your org.`);
    return { userId: input.userId, unlinked: login };
  }),
};
