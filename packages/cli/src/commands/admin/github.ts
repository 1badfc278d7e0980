import {
  codeTokenCount,
  ConflictError,
  guaranteeThreshold,
  NotFoundError,
  ValidationError,
  winnowingDefaults,
} from '@tokenwise/core';
import {
  currentScoringConfig,
  findGithubAccount,
  findOrgSlug,
  findRequestsByEvidenceKeys,
  findScoringRequest,
  findSettlementRecord,
  findUserByEmail,
  linkGithubAccount,
  type Db,
} from '@tokenwise/db';
import { githubEvidence } from '@tokenwise/db/schema';
import { githubCommitsPluginId, requestKey } from '@tokenwise/plugin-github-commits';
import { eq, max } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { readDevFile } from '../../local/demo-seed';
import { demoGithubReviewer, githubLoginPattern, playMergedPull, type DemoGithub } from '../../local/demo-github';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { text } from './option-values';

/** Request ids as the gateway mints them; anything longer or stranger is refused before a lookup. */
const requestIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Fewer code tokens than this cannot be recognised in a merged diff (t = w + k - 1 under the plugin's defaults). */
const codeTokensMin = guaranteeThreshold(winnowingDefaults);
/** A request's settlement starts within seconds of its answer: play-merge waits this long for it to wait on GitHub. */
const waitingForSettlementMsMax = 15_000;
const waitingPollMs = 250;

/**
 * Whether the request's settlement waits on commit linkage (its keys are in the evidence index): a
 * merge delivered before then would find no waiting request and credit nobody.
 */
async function untilWaiting(db: Db, params: { orgId: string; requestId: string }): Promise<boolean> {
  const deadline = Date.now() + waitingForSettlementMsMax;
  for (;;) {
    const hits = await findRequestsByEvidenceKeys(db, {
      orgId: params.orgId,
      pluginId: githubCommitsPluginId,
      keys: [requestKey(params.requestId)],
      now: new Date(),
      limit: 1,
    });
    if (hits.length > 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(waitingPollMs);
  }
}

async function emailOf(db: Db, params: { orgId: string; userId: string }): Promise<string> {
  const user = await db.query.users.findFirst({
    columns: { email: true },
    where: (users, { and, eq }) => and(eq(users.id, params.userId), eq(users.orgId, params.orgId)),
  });
  return user?.email ?? params.userId;
}

/**
 * The next pull request number of the demo repository. The stand-in forgets its pulls at each
 * start, but the platform remembers their evidence (a settlement counts each pull request once),
 * so numbers continue after the highest one recorded.
 */
async function nextPullNumber(db: Db, demo: DemoGithub): Promise<number> {
  const [recorded] = await db
    .select({ last: max(githubEvidence.pullNumber) })
    .from(githubEvidence)
    .where(eq(githubEvidence.repositoryKey, `${demo.repo.owner}/${demo.repo.name}`.toLowerCase()));
  return Math.max(recorded?.last ?? 0, ...demo.repo.pulls.keys()) + 1;
}

/** The stand-in, or why `npm start` runs none: only the npm start process holds one. */
function standIn(demo: DemoGithub | undefined): DemoGithub {
  if (demo === undefined)
    throw new ValidationError(
      'This platform runs without the local GitHub stand-in: `npm start` runs one only when no GitHub variable (GITHUB_WEBHOOK_SECRET, GITHUB_OAUTH_CLIENT_ID, TOKENWISE_GITHUB_URL, TOKENWISE_GITHUB_API_URL) is set. With real GitHub, merge a pull request there instead.',
    );
  return demo;
}

/** Everything play-merge needs of a request, or an error saying what to fix. */
async function mergeableRequest(db: Db, demo: DemoGithub, requestId: string) {
  const request = await findScoringRequest(db, { requestId });
  if (request === undefined)
    throw new NotFoundError(
      `No request ${requestId}: copy an id from \`tokenwise usage --org demo\` or from the x-request-id header of a gateway answer.`,
    );
  if (request.userId === null || request.system)
    throw new ValidationError(`Request ${requestId} is not a user's request: only users' requests are settled.`);
  const orgSlug = (await findOrgSlug(db, { orgId: request.orgId })) ?? request.orgId;
  const email = await emailOf(db, { orgId: request.orgId, userId: request.userId });
  const account = await findGithubAccount(db, { orgId: request.orgId, userId: request.userId });
  if (account === undefined)
    throw new ValidationError(
      `${email}, who made request ${requestId}, has no linked GitHub login, so no merge can be theirs: link one first (they prove it with the API's me.linkGithub, entering its code at GitHub's /login/device page, or an admin links it with \`tokenwise github link --org ${orgSlug} --user ${email} --login <login>\`).`,
    );
  const config = request.teamId === null ? undefined : await currentScoringConfig(db, { teamId: request.teamId });
  const watching = config?.plugins.some(
    (plugin) =>
      plugin.pluginId === 'github-commits' && (plugin.config as { baseUrl?: unknown } | null)?.baseUrl === demo.url,
  );
  if (watching !== true)
    throw new ValidationError(
      `The team of ${email} does not score with github-commits against the local GitHub (${demo.url}), so a merge there wakes nothing: under npm start the research team does (ray@demo.test).`,
    );
  const settled = await findSettlementRecord(db, { requestId });
  if (settled !== undefined)
    throw new ValidationError(
      `Request ${requestId} is settled already (${settled.reason}): a merge now changes nothing. Make a new request and play its merge.`,
    );
  if (request.completion === null)
    throw new ValidationError(
      `Request ${requestId}'s answer is not stored (purged after its retention, or never kept): make a new request and play its merge.`,
    );
  const completion = request.completion;
  const codeTokens = codeTokenCount(completion);
  if (codeTokens < codeTokensMin)
    throw new ValidationError(
      `Request ${requestId}'s answer holds ${codeTokens} code tokens, fewer than the ${codeTokensMin} commit linkage can recognise in a merged diff (its settlement scores it not applicable): ask for code, as the README's demo request does.`,
    );
  if (!(await untilWaiting(db, { orgId: request.orgId, requestId })))
    throw new ValidationError(
      `Request ${requestId}'s settlement is not waiting for GitHub evidence after ${waitingForSettlementMsMax / 1000} s: is the worker running? \`npx tokenwise usage --org ${orgSlug}\` shows whether it settled.`,
    );
  return { request, orgSlug, email, login: account.login, completion };
}

/** `github link` and `github play-merge`: the GitHub side of commit linkage, by hand and under npm start. */
export const githubCommands: AdminCommandSpecs = {
  'github link': {
    summary: "link a user's GitHub login, vouched for by an admin (audited); merges by that login credit the user",
    options: [
      orgOption,
      { name: 'user', value: 'email', required: true, description: 'the user' },
      { name: 'login', value: 'login', required: true, description: 'their GitHub login, e.g. ray-gh' },
    ],
    async run({ database }, options, actor) {
      const org = await orgOf(database.db, options);
      const email = text(options, 'user');
      const login = text(options, 'login');
      if (!githubLoginPattern.test(login))
        throw new ValidationError(
          `--login must be a GitHub login: 1 to 39 letters, digits or single hyphens, not starting or ending with one; got "${login.slice(0, 60)}".`,
        );
      const user = await findUserByEmail(database.db, { orgId: org.id, email });
      if (user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
      const result = await linkGithubAccount(database.db, {
        orgId: org.id,
        userId: user.id,
        login,
        githubUserId: null,
        provenVia: 'admin',
        actor,
      });
      if (result === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
      if ('heldBy' in result)
        throw new ConflictError(
          `GitHub login ${login} is linked to another user of org ${org.slug}: unlink it there first.`,
        );
      return {
        text: `Linked GitHub login ${result.linked.login} to ${email} (${org.slug}), vouched for by ${actor}: pull requests ${login} merges now credit ${email}'s requests.`,
        data: { userId: user.id, login: result.linked.login, provenVia: result.linked.provenVia },
      };
    },
  },
  'github play-merge': {
    summary:
      "under npm start: the local GitHub merges a reviewed pull request by the request's user holding its code, and delivers the signed webhook",
    options: [{ name: 'request', value: 'id', required: true, description: 'the request whose code is merged' }],
    needsRunningPlatform: true,
    async run({ database, config, demoGithub }, options) {
      const demo = standIn(demoGithub);
      const requestId = text(options, 'request');
      if (!requestIdPattern.test(requestId))
        throw new ValidationError(
          `--request must be a request id (letters, digits, _ . : -, at most 128), got "${requestId.slice(0, 60)}".`,
        );
      const { orgSlug, email, login, completion } = await mergeableRequest(database.db, demo, requestId);
      const apiUrl = (await readDevFile(config.dataDir))?.apiUrl ?? null;
      if (apiUrl === null)
        throw new ValidationError(`No API URL in ${config.dataDir}/dev.json: restart npm start, which writes it.`);
      const number = await nextPullNumber(database.db, demo);
      const played = await playMergedPull(demo, { apiUrl, requestId, login, completion, number });
      return {
        text: [
          `Merged ${played.repository}#${played.number} on the local GitHub (${played.url}): opened by ${login}, approved and merged by ${demoGithubReviewer}, adding ${played.filename}: the ${played.lines === 1 ? 'line' : `${played.lines} lines`} of code of request ${requestId}, its commit carrying the trailer Tokenwise-Request: ${requestId}.`,
          `Delivered the signed pull_request closed-and-merged webhook to ${apiUrl}/webhooks/github (delivery ${played.deliveryId}).`,
          "The worker's GitHub relay now loads the pull request, matches it and wakes the settlement. Watch the refund arrive, within seconds:",
          `  npx tokenwise history --org ${orgSlug} --user ${email}`,
          `  curl ${apiUrl}/me.recentUsage -H 'Authorization: Bearer <the key of ${email} in dev.json>'`,
        ].join('\n'),
        data: { requestId, login, ...played },
      };
    },
  },
};
