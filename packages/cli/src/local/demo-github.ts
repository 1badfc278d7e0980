import { extractCodeBlocks } from '@tokenwise/core';
import {
  deliverWebhook,
  fakeSha,
  mergedPullPayload,
  newFilePatch,
  startLocalGithub,
  type GithubRepo,
  type LocalGithub,
} from '@tokenwise/plugin-github-commits/testing';
import { orgSecretVariable } from '@tokenwise/plugin-sdk';
import { randomBytes } from 'node:crypto';

/** The variables that say the operator runs real GitHub: with any of them set, no stand-in runs. */
export const githubVariables = [
  'GITHUB_WEBHOOK_SECRET',
  'GITHUB_OAUTH_CLIENT_ID',
  'TOKENWISE_GITHUB_URL',
  'TOKENWISE_GITHUB_API_URL',
] as const;

/** The demo's GitHub organisation and repository on the stand-in: the research team watches it. */
export const demoGithubOwner = 'tokenwise-demo';
export const demoGithubRepo = 'app';
/** The token's secret name in the research team's github-commits config (the plugin's default). */
export const demoGithubTokenSecret = 'GITHUB_TOKEN';
/** Who approves and merges the demo's pull requests: someone other than the author, so the merge counts in full. */
export const demoGithubReviewer = 'tokenwise-demo-reviewer';
const demoGithubBot = 'tokenwise-demo-bot';

/** A GitHub login as GitHub allows it (the API's githubLoginSchema). */
export const githubLoginPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/**
 * The local GitHub that stands in for github.com under `npm start`: a REST server speaking the real
 * wire format on a free loopback port, the webhook secret the API verifies, and the token the demo
 * org's github-commits config reads. Secret and token are generated at each start and live in this
 * process only.
 */
export interface DemoGithub {
  /** The REST base the demo team's config names as `baseUrl`. */
  url: string;
  webhookSecret: string;
  /**
   * What the platform reads in place of the environment: the demo org's token, the webhook secret,
   * and the OAuth app and URLs that let users prove a login through the stand-in's device flow.
   */
  env: Readonly<Record<string, string>>;
  github: LocalGithub;
  repo: GithubRepo;
  close(): Promise<void>;
}

/** Null (run the stand-in) unless the operator configured GitHub: then the variable that says so. */
export function configuredGithubVariable(env: Readonly<Record<string, string | undefined>>): string | null {
  return githubVariables.find((name) => (env[name] ?? '') !== '') ?? null;
}

/** Starts the stand-in with a fresh webhook secret and a token for `orgSlug`'s github-commits config. */
export async function startDemoGithub(orgSlug: string): Promise<DemoGithub> {
  const github = await startLocalGithub();
  const token = `ghs_demo${randomBytes(18).toString('hex')}`;
  const webhookSecret = randomBytes(32).toString('hex');
  // The OAuth app users prove their login with (me.linkGithub): its device flow runs on the stand-in,
  // whose page at <url>/login/device takes the code.
  const oauthClientId = `Iv1.demo${randomBytes(8).toString('hex')}`;
  github.addToken(token, demoGithubBot);
  github.addOAuthClient(oauthClientId);
  const repo = github.addRepo(demoGithubOwner, demoGithubRepo);
  return {
    url: github.url,
    webhookSecret,
    env: {
      [orgSecretVariable(orgSlug, demoGithubTokenSecret)]: token,
      GITHUB_WEBHOOK_SECRET: webhookSecret,
      GITHUB_OAUTH_CLIENT_ID: oauthClientId,
      TOKENWISE_GITHUB_URL: github.url,
      TOKENWISE_GITHUB_API_URL: github.url,
    },
    github,
    repo,
    close: () => github.close(),
  };
}

/** The research team's scoring under the stand-in: commit linkage on the demo repository, alone. */
export function demoGithubScoring(url: string) {
  return [
    {
      pluginId: 'github-commits',
      weight: 1,
      config: {
        repositories: [`${demoGithubOwner}/${demoGithubRepo}`],
        baseUrl: url,
        tokenSecret: demoGithubTokenSecret,
      },
    },
  ];
}

export interface PlayedMerge {
  repository: string;
  number: number;
  url: string;
  filename: string;
  lines: number;
  deliveryId: string;
}

/**
 * Plays what GitHub does when `login` merges `completion`'s code: a pull request into the default
 * branch adding it as a new file, approved and merged by a reviewer, its commit carrying the
 * `Tokenwise-Request` trailer an IDE agent writes; then the signed `pull_request` closed-and-merged
 * delivery to the API's `POST /webhooks/github`.
 */
export async function playMergedPull(
  demo: DemoGithub,
  params: { apiUrl: string; requestId: string; login: string; completion: string; number: number },
): Promise<PlayedMerge> {
  const lines = extractCodeBlocks(params.completion).flatMap((block) => block.lines.map((line) => line.text));
  const mergedAt = new Date().toISOString();
  // Not under a generated/ path: commit linkage skips generated files, as it should.
  const filename = `src/code-of-${params.requestId.replace(/[^A-Za-z0-9_.-]/g, '_')}.txt`;
  const { number } = params;
  const pull = demo.github.addPull(demo.repo, {
    number,
    title: `Add the code of request ${params.requestId}`,
    user: params.login,
    mergedAt,
    mergedBy: demoGithubReviewer,
    reviews: [{ id: number, user: demoGithubReviewer, state: 'APPROVED', submittedAt: mergedAt }],
    commits: [
      {
        sha: fakeSha(`${demo.repo.name}#${number}:commit`),
        message: `Add the generated code\n\nTokenwise-Request: ${params.requestId}`,
        author: params.login,
        authoredAt: mergedAt,
      },
    ],
    files: [{ filename, status: 'added', patch: newFilePatch(lines) }],
  });
  const answer = await deliverWebhook({
    url: `${params.apiUrl}/webhooks/github`,
    secret: demo.webhookSecret,
    event: 'pull_request',
    payload: mergedPullPayload(demo.repo, pull),
  });
  if (answer.status !== 200)
    throw new Error(`The API answered the webhook delivery with ${answer.status}: ${answer.body.slice(0, 300)}`);
  return {
    repository: `${demo.repo.owner}/${demo.repo.name}`,
    number,
    url: `${demo.url}/repos/${demo.repo.owner}/${demo.repo.name}/pulls/${number}`,
    filename,
    lines: lines.length,
    deliveryId: answer.deliveryId,
  };
}
