import { createOrg, findOrgSlug, pendingOutboxRows } from '@tokenwise/db';
import { outbox } from '@tokenwise/db/schema';
import { deliverWebhook, fakeSha, mergedPullPayload, newFilePatch } from '@tokenwise/plugin-github-commits/testing';
import { orgSecretVariable } from '@tokenwise/plugin-sdk';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedRefund, settlementTrace, until } from '../settlement/test-world';
import type { SettlementResult } from '../settlement/types';
import { startGithubRelay } from './relay';
import {
  codeOf,
  codeRequest,
  relayGithubToken as token,
  relayWebhookSecret as webhookSecret,
  startRelayWorld,
  type RelayedRow,
  type RelayWorld,
} from './relay-test-world';

describe('a merged pull request wakes the settlements of the code it holds', () => {
  let relayWorld: RelayWorld;

  beforeAll(async () => {
    relayWorld = await startRelayWorld();
  });
  afterAll(async () => {
    await relayWorld?.close();
  });

  it('scores and refunds the author’s request, leaves other authors and orgs alone, and wakes nothing twice', async () => {
    const { database, world, github, linkedTeam, pendingSettlement, evidenceOf } = relayWorld;
    const repo = github.addRepo('acme', 'payments');
    github.addRepo('acme', 'ledger');
    const watching = { repositories: ['acme/payments'], baseUrl: github.url, tokenSecret: 'GITHUB_TOKEN' };
    const ada = await linkedTeam('ada-gh', watching);
    // Dora's team counts only a completion merged whole: her half-merged code stays pending.
    const dora = await linkedTeam('dora-gh', { ...watching, minContainment: 1 });
    const carol = await linkedTeam('carol-gh', watching);
    const otherOrg = (await createOrg(database.db, { actor: 'test', input: { slug: 'other-gh', name: 'Other' } })).id;
    // Another org: the same login and the same code, but its teams watch another repository.
    const outsider = await linkedTeam('ada-gh', { ...watching, repositories: ['acme/ledger'] }, otherOrg);

    const adaCode = codeOf(1);
    const adaRequest = await codeRequest(database, ada.client, adaCode);
    const doraRequest = await codeRequest(database, dora.client, codeOf(2));
    const carolRequest = await codeRequest(database, carol.client, codeOf(3));
    const outsiderRequest = await codeRequest(database, outsider.client, adaCode);
    expect(outsiderRequest.completion).toBe(adaRequest.completion);
    const [adaHandle] = await Promise.all(
      [adaRequest, doraRequest, carolRequest, outsiderRequest].map(({ requestId }) => pendingSettlement(requestId)),
    );

    const mergedAt = new Date().toISOString();
    const half = doraRequest.completion.slice(0, Math.floor(doraRequest.completion.length / 2));
    const adaPull = github.addPull(repo, {
      user: 'ada-gh',
      mergedAt,
      mergedBy: 'ada-gh',
      reviews: [{ id: 1, user: 'rev-gh', state: 'APPROVED', submittedAt: mergedAt }],
      commits: [{ sha: fakeSha('ada-1'), message: 'Add the routing table', author: 'ada-gh', authoredAt: mergedAt }],
      files: [{ filename: 'routes/ada.json', status: 'added', patch: newFilePatch([adaRequest.completion]) }],
    });
    const doraPull = github.addPull(repo, {
      user: 'dora-gh',
      mergedAt,
      mergedBy: 'rev-gh',
      files: [{ filename: 'routes/dora.json', status: 'added', patch: newFilePatch([half]) }],
    });
    // Mallory merges Carol's code: it is not Carol's pull request, so it credits nobody.
    const malloryPull = github.addPull(repo, {
      user: 'mallory-gh',
      mergedAt,
      mergedBy: 'rev-gh',
      reviews: [{ id: 2, user: 'rev-gh', state: 'APPROVED', submittedAt: mergedAt }],
      files: [{ filename: 'routes/carol.json', status: 'added', patch: newFilePatch([carolRequest.completion]) }],
    });
    // GitHub answers the first reads of Ada's pull request with 502s, more than the client retries.
    github.failNext(/\/pulls\/1$/, { kind: 'status', status: 502, message: 'Server Error' }, 3);

    const url = relayWorld.webhookUrl;
    const first = await deliverWebhook({
      url,
      secret: webhookSecret,
      event: 'pull_request',
      payload: mergedPullPayload(repo, adaPull),
    });
    expect(first.status).toBe(200);
    for (const pull of [doraPull, malloryPull]) {
      const answer = await deliverWebhook({
        url,
        secret: webhookSecret,
        event: 'pull_request',
        payload: mergedPullPayload(repo, pull),
      });
      expect(answer.status).toBe(200);
    }

    const rows: RelayedRow[] = [];
    const slug = (await findOrgSlug(database.db, { orgId: world.orgId }))!;
    const relayDeps = relayWorld.relayDeps(rows);
    // Without the token the rows wait, saying which variable to set, and stay in the outbox.
    const tokenless = startGithubRelay(relayDeps);
    await until(async () => (rows.length >= 3 ? true : undefined), 'the tokenless relay to try every row');
    await tokenless.stop();
    expect(rows.map((row) => row.deferred)).toEqual(
      Array.from({ length: 3 }, () => expect.stringContaining(orgSecretVariable(slug, 'GITHUB_TOKEN'))),
    );
    expect(await pendingOutboxRows(database.db, { kind: 'github_evidence', limit: 10 })).toHaveLength(3);
    rows.length = 0;

    const startedMs = Date.now();
    // Only the watching org holds a token: the other org's variable would not be read for it.
    const relay = startGithubRelay(relayWorld.relayDeps(rows, { [orgSecretVariable(slug, 'GITHUB_TOKEN')]: token }));
    try {
      const adaResult = (await adaHandle!.result()) as SettlementResult;
      expect(Date.now() - startedMs).toBeLessThan(8_000);
      expect(adaResult).toMatchObject({ status: 'settled', score: 1, refund: expectedRefund(adaRequest.cost) });
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 3 ? true : undefined),
        'every row relayed',
      );
      // The 502s made the first attempt wait; the row was tried again, not lost.
      expect(rows.find((row) => row.deferred !== undefined)?.deferred).toMatch(/502|Server Error/);
      const relayed = rows.flatMap((row) => (row.outcome === undefined ? [] : [row]));
      // Ada's pull request signalled Ada (settled), Dora's Dora (half her code), Mallory's nobody.
      expect(relayed.map((row) => row.outcome).sort((a, b) => a!.signalled - b!.signalled)).toEqual([
        { signalled: 0, skipped: 0 },
        { signalled: 1, skipped: 0 },
        { signalled: 1, skipped: 0 },
      ]);
      const dora = await evidenceOf(doraRequest.requestId);
      expect(dora.received).toHaveLength(1);
      expect(dora.received[0]?.payload).toMatchObject({
        requestId: doraRequest.requestId,
        pull: { number: doraPull.number },
      });
      expect((dora.received[0]?.payload as { containment: number }).containment).toBeLessThan(1);
      for (const untouched of [carolRequest, outsiderRequest]) {
        expect(await evidenceOf(untouched.requestId)).toMatchObject({ received: [], rejected: [] });
      }

      // The same delivery again is refused at the door; the same merge under a new delivery id is
      // relayed again but wakes nothing: Dora's settlement counts it as a duplicate, Ada's is closed.
      const again = await deliverWebhook({
        url,
        secret: webhookSecret,
        event: 'pull_request',
        payload: mergedPullPayload(repo, adaPull),
        deliveryId: first.deliveryId,
      });
      expect(again.status).toBe(200);
      rows.length = 0;
      for (const pull of [adaPull, doraPull]) {
        const redelivered = await deliverWebhook({
          url,
          secret: webhookSecret,
          event: 'pull_request',
          payload: mergedPullPayload(repo, pull),
        });
        expect(redelivered.status).toBe(200);
      }
      await until(
        async () => (rows.filter((row) => row.outcome !== undefined).length === 2 ? true : undefined),
        'the redeliveries',
      );
      expect(rows.map((row) => row.outcome)).toEqual([
        { signalled: 0, skipped: 1 },
        { signalled: 1, skipped: 0 },
      ]);
      expect(await evidenceOf(doraRequest.requestId)).toMatchObject({ duplicatesIgnored: 1 });
      expect((await evidenceOf(doraRequest.requestId)).received).toHaveLength(1);
      const trace = await settlementTrace(database, adaRequest.requestId);
      expect(trace.rows).toHaveLength(1);
      expect(trace.transfers.filter((transfer) => transfer.code === 'refund')).toHaveLength(1);
      const undelivered = await database.db.select().from(outbox).where(eq(outbox.kind, 'github_evidence'));
      expect(undelivered.every((row) => row.deliveredAt !== null)).toBe(true);
    } finally {
      await relay.stop();
    }
  });
});
