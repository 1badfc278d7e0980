import { ConflictError, NotFoundError } from '@tokenwise/core';
import {
  claimGithubLinkPoll,
  createGithubLinkAttempt,
  findGithubLinkAttempt,
  findOpenGithubLinkAttempt,
  linkGithubAccount,
  updateGithubLinkAttempt,
  type Db,
  type GithubLinkAttempt,
} from '@tokenwise/db';
import { fetchTokenUser, pollDeviceToken, requestDeviceCode, type GithubEndpoints } from './github-oauth';

/** What linking needs: the OAuth app's client id (device flow enabled) and where GitHub is. */
export interface GithubLinkConfig extends GithubEndpoints {
  clientId: string;
}

/** What the user is shown to approve: never the device code. */
export interface StartedGithubLink {
  attemptId: string;
  userCode: string;
  verificationUri: string;
  expiresAt: Date;
  intervalSeconds: number;
}

export type GithubLinkPoll =
  | { state: 'pending'; retryAt: Date; intervalSeconds: number }
  | { state: 'linked'; login: string }
  | { state: 'denied' | 'expired' | 'failed'; reason: string };

/** The interval GitHub adds on `slow_down` when it names no new one (RFC 8628: 5 seconds). */
const slowDownStepSeconds = 5;

const started = (attempt: GithubLinkAttempt): StartedGithubLink => ({
  attemptId: attempt.id,
  userCode: attempt.userCode,
  verificationUri: attempt.verificationUri,
  expiresAt: attempt.expiresAt,
  intervalSeconds: attempt.intervalSeconds,
});

/**
 * Starts proving a GitHub login through the device flow, or answers the user's attempt still
 * open (one open attempt per user: repeated calls do not make GitHub issue codes in a loop).
 */
export async function startGithubLink(
  db: Db,
  params: { config: GithubLinkConfig; orgId: string; userId: string; now?: Date },
): Promise<StartedGithubLink> {
  const now = params.now ?? new Date();
  const open = await findOpenGithubLinkAttempt(db, { orgId: params.orgId, userId: params.userId, now });
  if (open !== undefined) return started(open);
  const code = await requestDeviceCode(params.config, params.config.clientId);
  const attempt = await createGithubLinkAttempt(db, {
    orgId: params.orgId,
    userId: params.userId,
    deviceCode: code.device_code,
    userCode: code.user_code,
    verificationUri: code.verification_uri,
    intervalSeconds: code.interval,
    expiresAt: new Date(now.getTime() + code.expires_in * 1000),
    nextPollAt: now,
  });
  return started(attempt);
}

function finalPoll(attempt: GithubLinkAttempt): GithubLinkPoll {
  if (attempt.state === 'linked') return { state: 'linked', login: attempt.outcome ?? '' };
  if (attempt.state === 'pending')
    return { state: 'pending', retryAt: attempt.nextPollAt, intervalSeconds: attempt.intervalSeconds };
  return { state: attempt.state, reason: attempt.outcome ?? attempt.state };
}

const reasons: Record<string, string> = {
  expired_token: 'The code expired before it was approved: start again.',
  access_denied: 'The request was denied on GitHub: start again to retry.',
};

/**
 * Asks GitHub once whether the user approved attempt `attemptId`, no earlier than it allows
 * (an early or concurrent poll answers `pending` with when to retry, without asking). On approval
 * it reads the token's login from `GET /user` and links it; the token is then dropped, never
 * stored or logged. A login another user of the org holds fails the attempt with CONFLICT.
 */
export async function pollGithubLink(
  db: Db,
  params: { config: GithubLinkConfig; orgId: string; userId: string; attemptId: string; now?: Date },
): Promise<GithubLinkPoll> {
  const now = params.now ?? new Date();
  const attempt = await findGithubLinkAttempt(db, { orgId: params.orgId, userId: params.userId, id: params.attemptId });
  if (attempt === undefined) throw new NotFoundError(`No GitHub link attempt ${params.attemptId} of yours.`);
  if (attempt.state !== 'pending') return finalPoll(attempt);
  const end = async (state: 'linked' | 'denied' | 'expired' | 'failed', outcome: string) => {
    await updateGithubLinkAttempt(db, { id: attempt.id, now, state, outcome });
    return finalPoll({ ...attempt, state, outcome });
  };
  if (attempt.expiresAt <= now) return end('expired', reasons.expired_token as string);
  const nextPollAt = new Date(now.getTime() + attempt.intervalSeconds * 1000);
  if (!(await claimGithubLinkPoll(db, { id: attempt.id, now, nextPollAt })))
    return finalPoll((await findGithubLinkAttempt(db, { ...params, id: attempt.id })) ?? attempt);
  const answer = await pollDeviceToken(params.config, {
    clientId: params.config.clientId,
    deviceCode: attempt.deviceCode,
  });
  if ('error' in answer) {
    if (answer.error === 'authorization_pending')
      return { state: 'pending', retryAt: nextPollAt, intervalSeconds: attempt.intervalSeconds };
    if (answer.error === 'slow_down') {
      const intervalSeconds = Math.max(answer.interval ?? 0, attempt.intervalSeconds + slowDownStepSeconds);
      const retryAt = new Date(now.getTime() + intervalSeconds * 1000);
      await updateGithubLinkAttempt(db, { id: attempt.id, now, intervalSeconds, nextPollAt: retryAt });
      return { state: 'pending', retryAt, intervalSeconds };
    }
    if (answer.error === 'expired_token') return end('expired', reasons.expired_token as string);
    if (answer.error === 'access_denied') return end('denied', reasons.access_denied as string);
    return end('failed', `GitHub refused the poll: ${answer.error}.`);
  }
  const user = await fetchTokenUser(params.config, answer.accessToken);
  const result = await linkGithubAccount(db, {
    orgId: params.orgId,
    userId: params.userId,
    login: user.login,
    githubUserId: user.id,
    provenVia: 'device_flow',
    actor: `user:${params.userId}`,
  });
  if (result === undefined) throw new NotFoundError(`No user ${params.userId} in your org.`);
  if ('heldBy' in result) {
    const message = `GitHub login ${user.login} is linked to another user of your org: ask an admin to unlink it first.`;
    await end('failed', message);
    throw new ConflictError(message);
  }
  return end('linked', result.linked.login);
}
