import {
  fingerprintCompletion,
  fingerprintHashes,
  frequentFingerprints,
  guaranteeThreshold,
  winnowingDefaults,
} from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { approvedByOther } from './merged-pull';
import { matchCandidatesMax, matchPullToRequests } from './match-pull';
import {
  addedPatch,
  cacheCode,
  commitBy,
  completionOf,
  csvCode,
  file,
  mergedPull,
  patchAfterContext,
  pending,
  requestId,
  retryCode,
} from './match-test-fixtures';

const t = guaranteeThreshold(winnowingDefaults);
const retryPull = (overrides: Parameters<typeof mergedPull>[0] = {}) =>
  mergedPull({ files: [file('src/retry.ts', addedPatch(retryCode))], ...overrides });

describe('matchPullToRequests', () => {
  it('credits a completion whose code was merged, reviewed by someone else, to its request', () => {
    const [match, ...rest] = matchPullToRequests({
      pull: retryPull(),
      candidates: [pending(1, completionOf(retryCode))],
    });
    expect(rest).toEqual([]);
    expect(match).toMatchObject({
      requestId: requestId(1),
      containment: 1,
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
    });
    expect(match!.matchedTokens).toBeGreaterThan(60);
    expect(match!.longestRunTokens).toBe(match!.matchedTokens);
  });

  it('counts only the share of the completion that was merged', () => {
    const [match] = matchPullToRequests({
      pull: retryPull(),
      candidates: [pending(1, completionOf(retryCode, csvCode))],
    });
    expect(match!.containment).toBeGreaterThan(0.3);
    expect(match!.containment).toBeLessThan(0.7);
  });

  it('counts only pull requests merged into the default branch', () => {
    const candidates = [pending(1, completionOf(retryCode))];
    expect(
      matchPullToRequests({ pull: retryPull({ baseRef: 'release', intoDefaultBranch: false }), candidates }),
    ).toEqual([]);
    expect(matchPullToRequests({ pull: retryPull({ merged: false, mergedAt: null }), candidates })).toEqual([]);
  });

  it("matches a request only to pull requests opened by its user's login (case-insensitively)", () => {
    const candidates = [
      pending(1, completionOf(retryCode), { userGithubLogin: 'bob' }),
      pending(2, completionOf(retryCode), { userGithubLogin: 'ADA' }),
    ];
    expect(matchPullToRequests({ pull: retryPull(), candidates }).map((match) => match.requestId)).toEqual([
      requestId(2),
    ]);
  });

  it('matches only pull requests merged after the request and within the window', () => {
    const at = (iso: string) => [pending(1, completionOf(retryCode), { createdAt: new Date(iso) })];
    expect(matchPullToRequests({ pull: retryPull(), candidates: at('2026-12-02T12:00:01Z') })).toEqual([]);
    expect(matchPullToRequests({ pull: retryPull(), candidates: at('2026-11-01T12:00:00Z') })).toEqual([]);
    expect(() => matchPullToRequests({ pull: retryPull(), candidates: [], options: { windowDays: 31 } })).toThrow(
      /windowDays/,
    );
    expect(
      matchPullToRequests({ pull: retryPull(), candidates: at('2026-11-05T12:00:00Z'), options: { windowDays: 30 } }),
    ).toHaveLength(1);
  });

  it('counts a pull request merged by its own author without approval from someone else at selfMergeWeight (0: not at all)', () => {
    const candidates = [pending(1, completionOf(retryCode))];
    const selfMerged = retryPull({ mergedByLogin: 'ada', approvedByOther: false });
    expect(matchPullToRequests({ pull: selfMerged, candidates })).toEqual([]);
    const [weighted] = matchPullToRequests({ pull: selfMerged, candidates, options: { selfMergeWeight: 0.5 } });
    expect(weighted).toMatchObject({ selfMerged: true, approvedByOther: false, containment: 1 });
    const [approved] = matchPullToRequests({
      pull: retryPull({ mergedByLogin: 'ada', approvedByOther: true }),
      candidates,
    });
    expect(approved).toMatchObject({ selfMerged: true, approvedByOther: true, containment: 1 });
  });

  it("decides approval by each reviewer's latest deciding review, never the author's own", () => {
    expect(approvedByOther('ada', [{ login: 'ada', state: 'APPROVED' }])).toBe(false);
    expect(
      approvedByOther('ada', [
        { login: 'grace', state: 'APPROVED' },
        { login: 'grace', state: 'CHANGES_REQUESTED' },
      ]),
    ).toBe(false);
    expect(
      approvedByOther('ada', [
        { login: 'grace', state: 'APPROVED' },
        { login: 'grace', state: 'DISMISSED' },
      ]),
    ).toBe(false);
    expect(
      approvedByOther('ada', [
        { login: 'grace', state: 'CHANGES_REQUESTED' },
        { login: 'grace', state: 'APPROVED' },
        { login: 'grace', state: 'COMMENTED' },
      ]),
    ).toBe(true);
  });

  it('never counts code the base branch already had (context and removed lines of the patch)', () => {
    // The completion repeats code that was already in the file; the pull request adds a copy of it.
    const pull = mergedPull({ files: [file('src/retry.ts', patchAfterContext(retryCode, retryCode))] });
    expect(matchPullToRequests({ pull, candidates: [pending(1, completionOf(retryCode))] })).toEqual([]);
    // New code in the same pull request still counts.
    const mixed = mergedPull({
      files: [file('src/retry.ts', patchAfterContext(retryCode, `${retryCode}\n${csvCode}`))],
    });
    const [match] = matchPullToRequests({ pull: mixed, candidates: [pending(1, completionOf(retryCode, csvCode))] });
    expect(match!.containment).toBeGreaterThan(0.9);
  });

  it('never counts fingerprints in the ignored set (frequent in many completions)', () => {
    const documents = [
      completionOf(retryCode),
      completionOf(retryCode, cacheCode),
      completionOf(retryCode, csvCode),
    ].map((text) => fingerprintHashes(fingerprintCompletion(text)));
    const ignored = frequentFingerprints(documents, 3);
    const pull = mergedPull({ files: [file('src/retry.ts', addedPatch(`${retryCode}\n${csvCode}`))] });
    const candidates = [pending(1, completionOf(retryCode)), pending(2, completionOf(csvCode))];
    const matches = matchPullToRequests({ pull, candidates, options: { ignored } });
    expect(matches.map((match) => [match.requestId, match.containment])).toEqual([[requestId(2), 1]]);
  });

  it('never matches a shared run shorter than t tokens', () => {
    // The first three lines of csvCode, then other code: a run of at least k but fewer than t tokens.
    const head = csvCode.split('\n').slice(0, 3).join('\n');
    const pull = mergedPull({
      files: [file('src/other.ts', addedPatch(`${head}\n  while (true) { break; }\n}\n${cacheCode}`))],
    });
    const candidates = [pending(1, completionOf(csvCode))];
    expect(matchPullToRequests({ pull, candidates })).toEqual([]);
    // With t = k the same run would match: the test above is not passing for want of a shared run.
    const [short] = matchPullToRequests({ pull, candidates, options: { winnowing: { k: 15, w: 1 } } });
    expect(short!.longestRunTokens).toBeGreaterThanOrEqual(15);
    expect(short!.longestRunTokens).toBeLessThan(t);
  });

  it('credits each merged line to the earliest request that contains it', () => {
    const pull = mergedPull({ files: [file('src/retry.ts', addedPatch(`${retryCode}\n${csvCode}`))] });
    const early = pending(2, completionOf(retryCode), { createdAt: new Date('2026-12-01T08:00:00Z') });
    const late = pending(1, completionOf(retryCode, csvCode), { createdAt: new Date('2026-12-01T10:00:00Z') });
    const matches = matchPullToRequests({ pull, candidates: [late, early] });
    const byId = new Map(matches.map((match) => [match.requestId, match]));
    expect(byId.get(early.requestId)?.containment).toBe(1);
    // The later request gets the csv half only.
    expect(byId.get(late.requestId)?.containment).toBeGreaterThan(0.3);
    expect(byId.get(late.requestId)?.containment).toBeLessThan(0.7);
    // A later copy of exactly the same code gets nothing.
    const copy = pending(3, completionOf(retryCode), { createdAt: new Date('2026-12-01T11:00:00Z') });
    expect(matchPullToRequests({ pull, candidates: [copy, early] }).map((match) => match.requestId)).toEqual([
      early.requestId,
    ]);
  });

  it("takes a trailer naming the request, or its session, from the author's commits as provenance", () => {
    const trailer = (key: string, value: string) => `Add retries\n\n${key}: ${value}`;
    const byRequest = retryPull({ commits: [commitBy('ada', trailer('Tokenwise-Request', requestId(1)))] });
    const [named] = matchPullToRequests({ pull: byRequest, candidates: [pending(1, completionOf(retryCode))] });
    expect(named?.provenance).toBe('request');
    const bySession = retryPull({ commits: [commitBy('ada', trailer('Tokenwise-Session', 'vscode-42'))] });
    const [session] = matchPullToRequests({
      pull: bySession,
      candidates: [pending(1, completionOf(retryCode), { sessionId: 'vscode-42' })],
    });
    expect(session?.provenance).toBe('session');
    // Named by the trailer but with no code merged: reported, with nothing matched.
    const [trailerOnly] = matchPullToRequests({ pull: byRequest, candidates: [pending(1, completionOf(cacheCode))] });
    expect(trailerOnly).toMatchObject({ provenance: 'request', containment: 0, matchedTokens: 0 });
    // A trailer in someone else's commit vouches for nothing.
    const foreign = retryPull({ commits: [commitBy('mallory', trailer('Tokenwise-Request', requestId(1)))] });
    expect(matchPullToRequests({ pull: foreign, candidates: [pending(1, completionOf(cacheCode))] })).toEqual([]);
  });

  it('takes an AI co-author trailer as supporting evidence only, never alone', () => {
    const coAuthored = retryPull({
      commits: [commitBy('ada', 'Add retries\n\nCo-authored-by: Claude <noreply@anthropic.com>')],
    });
    expect(matchPullToRequests({ pull: coAuthored, candidates: [pending(1, completionOf(cacheCode))] })).toEqual([]);
    const [match] = matchPullToRequests({ pull: coAuthored, candidates: [pending(1, completionOf(retryCode))] });
    expect(match).toMatchObject({ coAuthor: true, provenance: null, containment: 1 });
  });

  it('gives the same answer for precomputed fingerprints as for the completion text', () => {
    const text = completionOf(retryCode, csvCode);
    const fromText = matchPullToRequests({ pull: retryPull(), candidates: [pending(1, text)] });
    const fromFingerprints = matchPullToRequests({
      pull: retryPull(),
      candidates: [{ ...pending(1, ''), completion: undefined, fingerprints: fingerprintCompletion(text) }],
    });
    expect(fromFingerprints).toEqual(fromText);
  });

  it('refuses more candidates than it is bounded to', () => {
    const many = Array.from({ length: matchCandidatesMax + 1 }, (_, index) => pending(index, ''));
    expect(() => matchPullToRequests({ pull: retryPull(), candidates: many })).toThrow(/matchCandidatesMax/);
  });
});
