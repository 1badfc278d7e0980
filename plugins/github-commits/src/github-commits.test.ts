import { parsePluginConfig, validateScoreResult, type ExternalEvidence } from '@tokenwise/plugin-sdk';
import { createTestContext, makeScoreInput } from '@tokenwise/plugin-sdk/testing';
import { describe, expect, it } from 'vitest';
import { githubCommitsConfigSchema, type GithubCommitsConfig } from './config';
import {
  githubEvidenceId,
  githubEvidenceIdCharsMax,
  githubEvidencePayload,
  githubEvidencePayloadSchema,
  type GithubEvidencePayload,
} from './evidence';
import githubCommits, { confidenceOf } from './index';
import { fingerprintKey, requestKey, sessionKey } from './evidence-keys';
import { fingerprintPull, matchPullToRequests } from './match-pull';
import {
  addedPatch,
  completionOf,
  csvCode,
  file,
  mergedPull,
  pending,
  requestId,
  retryCode,
} from './match-test-fixtures';

const id = requestId(1);
const createdAt = new Date('2026-12-01T09:00:00Z');
const config = (overrides: Record<string, unknown> = {}): GithubCommitsConfig =>
  parsePluginConfig(githubCommits, { owner: 'acme', ...overrides });

function payload(overrides: Partial<GithubEvidencePayload> = {}): GithubEvidencePayload {
  return {
    v: 1,
    requestId: id,
    containment: 0.8,
    matchedTokens: 90,
    longestRunTokens: 60,
    provenance: null,
    coAuthor: false,
    selfMerged: false,
    approvedByOther: true,
    pull: {
      repo: 'acme/payments',
      number: 7,
      url: 'https://github.com/acme/payments/pull/7',
      mergedAt: '2026-12-02T12:00:00Z',
    },
    ...overrides,
  };
}

function evidence(body: unknown, pluginId = 'github-commits'): ExternalEvidence {
  return {
    pluginId,
    evidenceId: githubEvidenceId('acme/payments', 7),
    payload: body as never,
    source: 'github',
    observedAt: '2026-12-02T12:00:05Z',
  };
}

async function score(
  options: { evidence?: ExternalEvidence[]; completion?: string; config?: GithubCommitsConfig; now?: Date } = {},
) {
  const context = createTestContext({ now: options.now ?? new Date('2026-12-03T00:00:00Z') });
  const input = makeScoreInput<GithubCommitsConfig>({
    requestId: id,
    createdAt,
    completion: options.completion ?? completionOf(retryCode),
    config: options.config ?? config(),
    externalEvidence: options.evidence ?? [],
  });
  const result = validateScoreResult(await githubCommits.score(input, context));
  return { result, logs: context.logs };
}

describe('the github-commits plugin', () => {
  it('is not applicable at once to a completion with fewer than t code tokens', async () => {
    const { result } = await score({ completion: 'Use `npm ci`.\n\n```sh\nnpm ci\n```' });
    expect(result).toMatchObject({ status: 'not_applicable', reason: expect.stringMatching(/fewer than the 24/) });
  });

  it('is pending while no evidence has arrived, and not applicable once the window closed', async () => {
    expect((await score()).result).toMatchObject({
      status: 'pending',
      reason: expect.stringMatching(/No merged pull request/),
    });
    const late = await score({ now: new Date('2026-12-16T09:00:01Z') });
    expect(late.result).toMatchObject({ status: 'not_applicable', reason: expect.stringMatching(/within 14 days/) });
  });

  it('names evidence keys while pending that a merged pull with its code is found by, and one without it is not', async () => {
    const { result } = await score();
    if (result.status !== 'pending') throw new Error('pending');
    const keys = new Set(result.evidenceKeys);
    expect(keys.has(requestKey(id))).toBe(true);
    const tagged = await githubCommits.score(
      makeScoreInput<GithubCommitsConfig>({
        requestId: id,
        createdAt,
        completion: completionOf(retryCode),
        config: config(),
        sessionId: 'ide-42',
      }),
      createTestContext({ now: new Date('2026-12-03T00:00:00Z') }),
    );
    expect(tagged.status === 'pending' && tagged.evidenceKeys).toContain(sessionKey('ide-42'));
    const keysOf = (code: string) =>
      [...fingerprintPull(mergedPull({ files: [file('src/retry.js', addedPatch(code))] })).hashes].map(fingerprintKey);
    expect(keysOf(retryCode).filter((key) => keys.has(key)).length).toBeGreaterThan(3);
    expect(keysOf(csvCode).filter((key) => keys.has(key))).toEqual([]);
  });

  it('scores the weighted containment, with confidence from the matched length', async () => {
    const { result } = await score({ evidence: [evidence(payload())] });
    expect(result).toMatchObject({
      status: 'scored',
      score: 0.8,
      evidence: { pull: { repo: 'acme/payments', number: 7 }, containment: 0.8, weight: 1, pullsMatched: 1 },
      rationale: expect.stringContaining('80% of this completion'),
    });
    if (result.status !== 'scored') throw new Error('scored');
    expect(result.confidence).toBeGreaterThan(0.4);
    expect(result.confidence).toBeLessThan(0.85);
  });

  it('keeps the best of several pull requests', async () => {
    const second = payload({ containment: 0.95, pull: { ...payload().pull, number: 9 } });
    const { result } = await score({ evidence: [evidence(payload()), evidence(second)] });
    expect(result).toMatchObject({ status: 'scored', score: 0.95, evidence: { pull: { number: 9 }, pullsMatched: 2 } });
  });

  it('gives a trailer naming the request high confidence, its session less, a co-author trailer little', () => {
    const weights = { k: 15, w: 10 };
    const short = { longestRunTokens: 24, coAuthor: false };
    expect(confidenceOf({ ...short, provenance: 'request' }, weights)).toBeGreaterThanOrEqual(0.95);
    expect(confidenceOf({ ...short, provenance: 'session' }, weights)).toBeGreaterThanOrEqual(0.8);
    expect(confidenceOf({ ...short, provenance: null }, weights)).toBe(0.4);
    expect(confidenceOf({ ...short, provenance: null, coAuthor: true }, weights)).toBeCloseTo(0.45);
    expect(confidenceOf({ longestRunTokens: 96, coAuthor: false, provenance: null }, weights)).toBeCloseTo(0.85);
  });

  it('counts a self-merged pull request without approval at selfMergeWeight: pending at 0, weighted above', async () => {
    const selfMerged = evidence(payload({ selfMerged: true, approvedByOther: false }));
    const { result } = await score({ evidence: [selfMerged] });
    expect(result).toMatchObject({ status: 'pending', reason: expect.stringMatching(/merged by its author without/) });
    const weighted = await score({ evidence: [selfMerged], config: config({ selfMergeWeight: 0.5 }) });
    expect(weighted.result).toMatchObject({ status: 'scored', score: 0.4, evidence: { weight: 0.5 } });
    const approved = await score({ evidence: [evidence(payload({ selfMerged: true, approvedByOther: true }))] });
    expect(approved.result).toMatchObject({ status: 'scored', score: 0.8 });
  });

  it('stays pending below minContainment', async () => {
    const { result } = await score({ evidence: [evidence(payload({ containment: 0.05 }))] });
    expect(result).toMatchObject({ status: 'pending', reason: expect.stringMatching(/only 5%/) });
  });

  it("leaves out evidence that is malformed, names another request, merged outside the window or is another plugin's", async () => {
    const bad = [
      evidence({ ...payload(), containment: 2 }),
      evidence(payload({ requestId: requestId(2) })),
      evidence(payload({ pull: { ...payload().pull, mergedAt: '2026-11-30T00:00:00Z' } })),
      evidence(payload({ pull: { ...payload().pull, mergedAt: '2026-12-20T00:00:00Z' } })),
      evidence(payload(), 'ab-results'),
    ];
    const { result, logs } = await score({ evidence: bad });
    expect(result.status).toBe('pending');
    expect(logs.map((entry) => entry.fields.problem)).toEqual([
      expect.stringMatching(/invalid payload/),
      'names another request',
      'merged outside the window',
      'merged outside the window',
    ]);
  });

  it('scores what the matcher found, end to end through the evidence payload', async () => {
    const pull = mergedPull({
      commits: [{ sha: 'a'.repeat(40), message: `Retries\n\nTokenwise-Request: ${id}`, authorLogin: 'ada' }],
      files: [file('src/retry.ts', addedPatch(retryCode))],
    });
    const [match] = matchPullToRequests({ pull, candidates: [pending(1, completionOf(retryCode, csvCode))] });
    const { result } = await score({
      completion: completionOf(retryCode, csvCode),
      evidence: [evidence(githubEvidencePayload(match!))],
    });
    expect(result).toMatchObject({ status: 'scored', evidence: { provenance: 'request' } });
    if (result.status !== 'scored') throw new Error('scored');
    expect(result.score).toBeGreaterThan(0.3);
    expect(result.confidence).toBeGreaterThanOrEqual(0.95);
  });
});

describe('the github-commits configuration', () => {
  it('fills defaults with reasons: k 15, w 10, 14 days, self-merge weight 0', () => {
    expect(config()).toEqual({
      owner: 'acme',
      tokenSecret: 'GITHUB_TOKEN',
      windowDays: 14,
      k: 15,
      w: 10,
      selfMergeWeight: 0,
      minContainment: 0.1,
    });
  });

  it('refuses what a tenant admin must not set, saying what to fix', () => {
    const problems = (raw: unknown) =>
      githubCommitsConfigSchema.safeParse(raw).error?.issues.map((issue) => issue.message) ?? [];
    expect(problems({})).toEqual([expect.stringMatching(/either owner .* or repositories/)]);
    expect(problems({ owner: 'acme', repositories: ['acme/payments'] })).toEqual([expect.stringMatching(/not both/)]);
    expect(problems({ repositories: ['acme'] })).toEqual(['must be owner/name, e.g. acme/payments']);
    // The token goes wherever baseUrl points: only https, or plain http on loopback.
    expect(problems({ owner: 'acme', baseUrl: 'http://ghe.internal/api/v3' })).toEqual([
      expect.stringMatching(/https URL/),
    ]);
    expect(problems({ owner: 'acme', baseUrl: 'https://user:pw@ghe.example.com/api/v3' })).toHaveLength(1);
    expect(problems({ owner: 'acme', baseUrl: 'https://ghe.example.com/api/v3' })).toEqual([]);
    expect(problems({ owner: 'acme', tokenSecret: '../etc' })).toEqual([expect.stringMatching(/secret name/)]);
    // Names the org's secret reader would refuse at the first merge are refused when the team saves them:
    // a double underscore could name another org's variable, and _ORGS is an allow-list, not a secret.
    for (const tokenSecret of ['B__TOKEN', 'GITHUB_TOKEN_ORGS', 'TOKEN_', `T${'X'.repeat(64)}`])
      expect(problems({ owner: 'acme', tokenSecret })).toEqual([expect.stringMatching(/single underscores/)]);
    expect(problems({ owner: 'acme', tokenSecret: 'ACME_GITHUB_2' })).toEqual([]);
    expect(problems({ owner: 'acme', windowDays: 31 })).toHaveLength(1);
    expect(problems({ owner: 'acme', selfMergeWeight: 2 })).toHaveLength(1);
    expect(problems({ owner: 'acme', k: 0 })).toEqual([expect.stringMatching(/k must be at least 1/)]);
    expect(problems({ owner: 'acme', extra: true })).toHaveLength(1);
  });
});

describe('the github evidence payload', () => {
  it('fits the host 4 KiB evidence limit at its widest, and its id the 128-character id limit', () => {
    const widest = payload({
      requestId: 'r'.repeat(64),
      containment: 1 / 3,
      matchedTokens: 9_999_999,
      longestRunTokens: 9_999_999,
      provenance: 'session',
      pull: {
        repo: `${'o'.repeat(39)}/${'n'.repeat(100)}`,
        number: 2 ** 31 - 1,
        url: `https://${'u'.repeat(504)}`,
        mergedAt: '2026-12-02T12:00:00.000+05:30',
      },
    });
    const parsed = githubEvidencePayloadSchema.parse(widest);
    expect(Buffer.byteLength(JSON.stringify(parsed))).toBeLessThan(4 * 1024);
    expect(githubEvidenceId(widest.pull.repo, widest.pull.number).length).toBeLessThanOrEqual(githubEvidenceIdCharsMax);
    expect(githubEvidenceId('Acme/Payments', 7)).toBe('github-pull-acme/payments#7');
  });

  it('refuses payloads out of bounds', () => {
    const refused = (body: unknown) => !githubEvidencePayloadSchema.safeParse(body).success;
    expect(refused(payload({ requestId: 'r'.repeat(65) }))).toBe(true);
    expect(refused(payload({ longestRunTokens: 91 }))).toBe(true);
    expect(refused({ ...payload(), pull: { ...payload().pull, url: 'javascript:alert(1)' } })).toBe(true);
    expect(refused({ ...payload(), v: 2 })).toBe(true);
    expect(refused(payload())).toBe(false);
  });
});
