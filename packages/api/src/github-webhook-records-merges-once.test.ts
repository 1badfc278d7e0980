import { findGithubDelivery, findGithubEvidence, pendingOutboxRows } from '@tokenwise/db';
import { githubEvidence, githubWebhookDeliveries } from '@tokenwise/db/schema';
import { deliverWebhook, signWebhookBody } from '@tokenwise/plugin-github-commits/testing';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pingPayload,
  pullRequestClosedPayload,
  pushPayload,
  type PullRequestClosedPayload,
  type PushPayload,
} from './fixtures/github-webhooks';
import { startApiServer, type RunningApiServer } from './server';
import { openApiFixture, type ApiFixture } from './test-fixtures';

const secret = 'whsec-0123456789abcdef-test';
let f: ApiFixture;
let api: RunningApiServer;
let unconfigured: RunningApiServer;
let url: string;

beforeAll(async () => {
  f = await openApiFixture();
  const github = { oauthClientId: undefined, webUrl: 'http://x', apiUrl: 'http://x', webhookSecret: secret };
  api = await startApiServer({ db: f.db, ledger: f.ledger, keyPepper: f.keyPepper, github });
  unconfigured = await startApiServer({ db: f.db, ledger: f.ledger, keyPepper: f.keyPepper });
  url = `${api.url}/webhooks/github`;
});
afterAll(async () => {
  await api?.close();
  await unconfigured?.close();
  await f?.close();
});

const requestId = 'req_0123456789abcdef01234567';
const mergedPull = {
  ...pullRequestClosedPayload,
  pull_request: {
    ...pullRequestClosedPayload.pull_request,
    merged: true,
    merged_at: '2026-12-05T12:00:00Z',
    merge_commit_sha: 'c4295bd74fb0f4d3e9d2c9e6f2a3a1b1c3d4e5f6',
    body: `Adds the parser.\n\nTokenwise-Request: ${requestId}`,
    merged_by: pullRequestClosedPayload.pull_request.user,
  },
} satisfies PullRequestClosedPayload;
const pushWithTrailers = {
  ...pushPayload,
  commits: pushPayload.commits.map((commit) => ({
    ...commit,
    message: `Add the parser\n\nTokenwise-Request: ${requestId}\nTokenwise-Session: sess-42\nTokenwise-Request: not-an-id`,
  })),
} satisfies PushPayload;

const rows = async () => ({
  deliveries: (await f.db.select({ n: count() }).from(githubWebhookDeliveries))[0]?.n,
  evidence: (await f.db.select({ n: count() }).from(githubEvidence))[0]?.n,
});

describe('POST /webhooks/github', () => {
  it('refuses a bad signature (401) and answers 503 naming GITHUB_WEBHOOK_SECRET when unset', async () => {
    const before = await rows();
    const forged = await deliverWebhook({
      url,
      secret: 'not-the-secret-at-all',
      event: 'push',
      payload: pushWithTrailers,
    });
    expect(forged.status).toBe(401);
    const tampered = await deliverWebhook({
      url,
      secret,
      event: 'push',
      payload: pushWithTrailers,
      body: JSON.stringify({ ...pushWithTrailers, ref: 'refs/heads/evil' }),
      // Signed for the real body, sent with another: the signature covers the bytes.
      signature: signWebhookBody(secret, JSON.stringify(pushWithTrailers)),
    });
    expect(tampered.status).toBe(401);
    const off = await deliverWebhook({
      url: `${unconfigured.url}/webhooks/github`,
      secret,
      event: 'ping',
      payload: pingPayload,
    });
    expect(off.status).toBe(503);
    expect(off.body).toMatch(/GITHUB_WEBHOOK_SECRET/);
    expect(await rows()).toEqual(before);
  });

  it('refuses a body over the bound with 413, writing nothing', async () => {
    const before = await rows();
    const big = JSON.stringify({ ...pingPayload, zen: 'x'.repeat(5 * 1024 * 1024) });
    const answer = await deliverWebhook({ url, secret, event: 'ping', payload: null, body: big });
    expect(answer.status).toBe(413);
    expect(await rows()).toEqual(before);
  });

  it('answers ping, and ignores (202, recorded) a merge outside the default branch and a close without merge', async () => {
    expect((await deliverWebhook({ url, secret, event: 'ping', payload: pingPayload })).status).toBe(200);
    const closed = await deliverWebhook({ url, secret, event: 'pull_request', payload: pullRequestClosedPayload });
    expect(closed).toMatchObject({ status: 202, body: expect.stringMatching(/without merging/) });
    const offBranch = {
      ...mergedPull,
      pull_request: { ...mergedPull.pull_request, base: { ...mergedPull.pull_request.base, ref: 'release' } },
    } satisfies PullRequestClosedPayload;
    const merged = await deliverWebhook({ url, secret, event: 'pull_request', payload: offBranch });
    expect(merged).toMatchObject({ status: 202, body: expect.stringMatching(/not the default branch/) });
    const branchPush = await deliverWebhook({
      url,
      secret,
      event: 'push',
      payload: { ...pushWithTrailers, ref: 'refs/heads/feature' } satisfies PushPayload,
    });
    expect(branchPush.status).toBe(202);
    expect(await findGithubDelivery(f.db, { deliveryId: merged.deliveryId })).toMatchObject({
      event: 'pull_request',
      action: 'closed',
      outcome: 'ignored',
    });
    expect(await f.db.select().from(githubEvidence)).toEqual([]);
  });

  it('a push to the default branch with trailers becomes evidence with the parsed ids and an outbox row', async () => {
    const answer = await deliverWebhook({ url, secret, event: 'push', payload: pushWithTrailers });
    expect(answer.status).toBe(200);
    const [row] = await f.db.select({ id: githubEvidence.id }).from(githubEvidence);
    const evidence = await findGithubEvidence(f.db, { id: row?.id ?? '' });
    expect(evidence).toMatchObject({
      kind: 'push',
      repositoryFullName: 'Codertocat/Hello-World',
      repositoryKey: 'codertocat/hello-world',
      baseRef: 'master',
      mergeCommitSha: pushPayload.after,
      beforeSha: pushPayload.before,
      forced: false,
      authorLogin: 'Codertocat',
      requestIds: [requestId],
      sessionIds: ['sess-42'],
      commits: [
        {
          sha: pushPayload.commits[0]?.id,
          authorLogin: 'Codertocat',
          timestamp: '2019-05-15T15:19:25Z',
          requestIds: [requestId],
          sessionIds: ['sess-42'],
        },
      ],
    });
    const outbox = await pendingOutboxRows(f.db, { kind: 'github_evidence', limit: 10 });
    expect(outbox.map((entry) => entry.requestId)).toContain(row?.id);
  });

  it('a forced push is recorded with its before and forced flag, for the relay to credit nobody by it', async () => {
    const before = 'e'.repeat(40);
    const forced = { ...pushWithTrailers, before, forced: true } satisfies PushPayload;
    const answer = await deliverWebhook({ url, secret, event: 'push', payload: forced });
    expect(answer.status).toBe(200);
    const id = /evidence ([0-9a-f-]{36})/.exec(answer.body)?.[1] ?? '';
    expect(await findGithubEvidence(f.db, { id })).toMatchObject({ kind: 'push', beforeSha: before, forced: true });
  });

  it('a merged pull request into the default branch becomes evidence; its description trailers count', async () => {
    const answer = await deliverWebhook({ url, secret, event: 'pull_request', payload: mergedPull });
    expect(answer.status).toBe(200);
    const id = /evidence ([0-9a-f-]{36})/.exec(answer.body)?.[1] ?? '';
    expect(await findGithubEvidence(f.db, { id })).toMatchObject({
      kind: 'pull_request',
      pullNumber: 2,
      baseRef: 'master',
      authorLogin: 'Codertocat',
      mergedByLogin: 'Codertocat',
      mergedAt: new Date('2026-12-05T12:00:00Z'),
      requestIds: [requestId],
      commits: [],
    });
  });

  it('a replayed delivery id, and two identical deliveries at once, are written once', async () => {
    const first = await deliverWebhook({ url, secret, event: 'push', payload: pushWithTrailers });
    const before = await rows();
    const replay = await deliverWebhook({
      url,
      secret,
      event: 'push',
      payload: pushWithTrailers,
      deliveryId: first.deliveryId,
    });
    expect(replay).toMatchObject({ status: 200, body: expect.stringMatching(/already received/) });
    expect(await rows()).toEqual(before);
    const deliveryId = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        deliverWebhook({ url, secret, event: 'push', payload: pushWithTrailers, deliveryId }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(answers.filter((answer) => /already received/.test(answer.body))).toHaveLength(3);
    expect(await rows()).toEqual({ deliveries: (before.deliveries ?? 0) + 1, evidence: (before.evidence ?? 0) + 1 });
  });

  it('refuses a delivery without a delivery id or with a payload not shaped as GitHub sends it (400)', async () => {
    const shapeless = await deliverWebhook({ url, secret, event: 'push', payload: { ref: 'refs/heads/master' } });
    expect(shapeless).toMatchObject({ status: 400, body: expect.stringMatching(/push payload/) });
    const noId = await deliverWebhook({ url, secret, event: 'ping', payload: pingPayload, deliveryId: 'bad id!' });
    expect(noId.status).toBe(400);
  });
});
