import {
  allWithoutIgnored,
  commitProvenance,
  containment,
  creditLinesToEarliest,
  fingerprintCompletion,
  fingerprintDiff,
  fingerprintHashes,
  fingerprintLines,
  guaranteeThreshold,
  mergedLineKey,
  resolveWinnowingOptions,
  sharedRuns,
  ValidationError,
  withoutIgnored,
  type FingerprintedCode,
  type FingerprintedFile,
  type SharedRun,
  type WinnowingOptions,
} from '@tokenwise/core';
import { extractBaseLines } from './base-lines';
import type { MergedPull } from './merged-pull';

/** Pending requests matched against one pull request per call. */
export const matchCandidatesMax = 10_000;
/** Days after a request in which its code may still merge: two weeks covers a normal review cycle. */
export const windowDaysDefault = 14;
/** The plugin SDK's longest evidence window. */
export const windowDaysMax = 30;

/** A pending request that may have become code in the pull request. */
export interface PendingRequest {
  readonly requestId: string;
  readonly createdAt: Date;
  /** The GitHub login its user proved (linked); a request of an unlinked user is never a candidate. */
  readonly userGithubLogin: string;
  /** Its `x-tokenwise-session`, when the client sent one. */
  readonly sessionId?: string;
  /** The completion text, or its `fingerprintCompletion` computed with the same k and w. */
  readonly completion?: string;
  readonly fingerprints?: readonly FingerprintedCode[];
}

export interface MatchOptions {
  readonly winnowing?: Partial<WinnowingOptions>;
  /** Fingerprints that never count: those of many completions (`frequentFingerprints`). */
  readonly ignored?: ReadonlySet<number>;
  /**
   * Weight of a pull request merged by its own author with no approval from anyone else: at the
   * default 0 it matches nothing. Above 0 it matches, flagged `selfMerged` and not
   * `approvedByOther`, and each team's plugin applies its own configured weight.
   */
  readonly selfMergeWeight?: number;
  readonly windowDays?: number;
}

/** What one pull request proves about one request: the evidence payload's body. */
export interface RequestMatch {
  readonly requestId: string;
  /** Share of the completion's fingerprints (outside the base and ignored sets) credited to it in the merged lines. */
  readonly containment: number;
  /** Completion tokens inside credited shared runs of at least t tokens. */
  readonly matchedTokens: number;
  readonly longestRunTokens: number;
  /** A commit of the pull request's author names the request (or its session) in a trailer. */
  readonly provenance: 'request' | 'session' | null;
  /** A commit of the author has an AI assistant's Co-authored-by trailer: supporting only. */
  readonly coAuthor: boolean;
  readonly selfMerged: boolean;
  readonly approvedByOther: boolean;
  /** Where it landed; `after` (and `number` 0) for a push to the default branch. */
  readonly pull: {
    readonly repo: string;
    readonly number: number;
    readonly url: string;
    readonly mergedAt: string;
    readonly after?: string;
  };
}

/** A pull request's added lines fingerprinted, stripped of the base side's and the ignored fingerprints. */
export interface FingerprintedPull {
  readonly files: readonly FingerprintedFile[];
  /** Hashes of `files`: what an index of pending requests looks up. */
  readonly hashes: ReadonlySet<number>;
  /** Hashes of the patch's context and removed lines (already in the base branch). */
  readonly baseHashes: ReadonlySet<number>;
}

/** Fingerprints a pull request's added lines, each file apart, leaving out what the base already had and `ignored`. */
export function fingerprintPull(
  pull: Pick<MergedPull, 'files'>,
  winnowing: Partial<WinnowingOptions> = {},
  ignored: ReadonlySet<number> = new Set(),
): FingerprintedPull {
  const baseHashes = new Set<number>();
  const added: FingerprintedFile[] = [];
  for (const { path, patch } of pull.files) {
    added.push(...fingerprintDiff(patch, winnowing, path));
    for (const { hash } of fingerprintLines(extractBaseLines(patch), winnowing).fingerprints) baseHashes.add(hash);
  }
  const dropped = new Set([...ignored, ...baseHashes]);
  const files = added.map(({ path, code }) => ({ path, code: withoutIgnored(code, dropped) }));
  return { files, hashes: fingerprintHashes(files.map((file) => file.code)), baseHashes };
}

/**
 * Matches one merged pull request against pending requests. A request matches only a pull
 * request merged into the default branch, opened by its user's login, merged after the request
 * and within the window. Only shared runs of at least t = w + k - 1 tokens count, never on
 * fingerprints of the base side or of `ignored`; each merged line is credited to the earliest
 * request that contains it. Returns one entry per request with credited code or a provenance
 * trailer, in the candidates' order.
 */
export function matchPullToRequests(args: {
  pull: MergedPull;
  candidates: readonly PendingRequest[];
  options?: MatchOptions;
}): RequestMatch[] {
  const { pull, candidates, options = {} } = args;
  if (candidates.length > matchCandidatesMax) {
    throw new ValidationError(
      `${candidates.length} candidate requests; at most ${matchCandidatesMax} (matchCandidatesMax) per pull request.`,
    );
  }
  const winnowing = resolveWinnowingOptions(options.winnowing ?? {});
  const windowDays = options.windowDays ?? windowDaysDefault;
  const selfMergeWeight = options.selfMergeWeight ?? 0;
  if (!(windowDays > 0 && windowDays <= windowDaysMax) || !(selfMergeWeight >= 0 && selfMergeWeight <= 1)) {
    throw new ValidationError(
      `windowDays must be in (0, ${windowDaysMax}] and selfMergeWeight in [0, 1]; got ${windowDays} and ${selfMergeWeight}.`,
    );
  }
  if (!pull.merged || !pull.intoDefaultBranch || pull.mergedAt === null || pull.authorLogin === null) return [];
  const author = pull.authorLogin.toLowerCase();
  const selfMerged = pull.mergedByLogin?.toLowerCase() === author;
  if (selfMerged && !pull.approvedByOther && selfMergeWeight === 0) return [];
  const mergedAtMs = Date.parse(pull.mergedAt);
  const windowMs = windowDays * 86_400_000;
  const eligible = candidates.filter((candidate) => {
    const createdAtMs = candidate.createdAt.getTime();
    return (
      candidate.userGithubLogin.toLowerCase() === author &&
      createdAtMs < mergedAtMs &&
      mergedAtMs - createdAtMs <= windowMs
    );
  });
  if (eligible.length === 0) return [];
  const ignored = options.ignored ?? new Set<number>();
  const merged = fingerprintPull(pull, winnowing, ignored);
  const dropped = new Set([...ignored, ...merged.baseHashes]);
  const t = guaranteeThreshold(winnowing);
  // Each merged token's line key, made once per pull request rather than once per candidate.
  const lineKeys = new Map(
    merged.files.map((file) => [file, file.code.tokens.map((token) => mergedLineKey(file.path, token.line))]),
  );
  const claims = eligible.map((request) => claimOf(request, merged, lineKeys, dropped, winnowing, t));
  const credit = creditLinesToEarliest(
    claims.map(({ request, lines }) => ({
      requestId: request.requestId,
      requestedAtMs: request.createdAt.getTime(),
      lines,
    })),
  );
  const trailers = provenanceOf(pull, author);
  const shared = {
    coAuthor: trailers.coAuthor,
    selfMerged,
    approvedByOther: pull.approvedByOther,
    pull: {
      repo: pull.repo,
      number: pull.number,
      url: pull.url,
      mergedAt: pull.mergedAt,
      ...(pull.push === undefined ? {} : { after: pull.push.after }),
    },
  };
  return claims.flatMap((claim) => {
    const { request } = claim;
    const provenance = trailers.requestIds.has(request.requestId)
      ? 'request'
      : request.sessionId !== undefined && trailers.sessionIds.has(request.sessionId)
        ? 'session'
        : null;
    const measured = measure(claim, lineKeys, credit, winnowing.k, t);
    if (measured.matchedTokens === 0 && provenance === null) return [];
    return [{ requestId: request.requestId, ...measured, provenance, ...shared }];
  });
}

type LineKeys = ReadonlyMap<FingerprintedFile, readonly string[]>;

interface PieceRun {
  readonly piece: number;
  readonly file: FingerprintedFile;
  readonly run: SharedRun;
}

interface Claim {
  readonly request: PendingRequest;
  readonly pieces: readonly FingerprintedCode[];
  readonly runs: readonly PieceRun[];
  /** Merged lines inside its runs of at least t tokens. */
  readonly lines: Set<string>;
}

function claimOf(
  request: PendingRequest,
  merged: FingerprintedPull,
  lineKeys: LineKeys,
  dropped: ReadonlySet<number>,
  winnowing: WinnowingOptions,
  t: number,
): Claim {
  const own = request.fingerprints ?? fingerprintCompletion(request.completion ?? '', winnowing);
  const pieces = allWithoutIgnored(own, dropped);
  const runs: PieceRun[] = [];
  const lines = new Set<string>();
  if (containment(pieces, merged.hashes).matchedFingerprints === 0) return { request, pieces, runs, lines };
  pieces.forEach((piece, index) => {
    for (const file of merged.files) {
      for (const run of sharedRuns(piece, file.code)) {
        if (run.length < t) continue;
        runs.push({ piece: index, file, run });
        const keys = lineKeys.get(file)!;
        for (let offset = 0; offset < run.length; offset += 1) lines.add(keys[run.mergedStart + offset]!);
      }
    }
  });
  return { request, pieces, runs, lines };
}

/** Containment and lengths over the parts of its runs whose merged lines were credited to this request, each still >= t tokens. */
function measure(claim: Claim, lineKeys: LineKeys, credit: ReadonlyMap<string, string>, k: number, t: number) {
  const covered = claim.pieces.map((piece) => new Uint8Array(piece.tokens.length));
  let longestRunTokens = 0;
  for (const { piece, file, run } of claim.runs) {
    const keys = lineKeys.get(file)!;
    let stretch = 0;
    const flush = (end: number) => {
      if (stretch >= t) {
        covered[piece]!.fill(1, run.completionStart + end - stretch, run.completionStart + end);
        longestRunTokens = Math.max(longestRunTokens, stretch);
      }
      stretch = 0;
    };
    for (let offset = 0; offset < run.length; offset += 1) {
      if (credit.get(keys[run.mergedStart + offset]!) === claim.request.requestId) stretch += 1;
      else flush(offset);
    }
    flush(run.length);
  }
  const matchedTokens = covered.reduce((sum, marks) => sum + marks.reduce((total, mark) => total + mark, 0), 0);
  const all = new Set<number>();
  const matched = new Set<number>();
  claim.pieces.forEach((piece, index) => {
    for (const { hash, position } of piece.fingerprints) {
      all.add(hash);
      if (covered[index]!.subarray(position, position + k).every((mark) => mark === 1)) matched.add(hash);
    }
  });
  return { containment: all.size === 0 ? 0 : matched.size / all.size, matchedTokens, longestRunTokens };
}

/** Trailers of the commits the pull request's author made: only the author can vouch for their own requests. */
function provenanceOf(pull: MergedPull, author: string) {
  const requestIds = new Set<string>();
  const sessionIds = new Set<string>();
  let coAuthor = false;
  for (const commit of pull.commits) {
    if (commit.authorLogin?.toLowerCase() !== author) continue;
    const found = commitProvenance(commit.message);
    for (const id of found.requestIds) requestIds.add(id);
    for (const id of found.sessionIds) sessionIds.add(id);
    if (found.aiCoauthors.length > 0) coAuthor = true;
  }
  return { requestIds, sessionIds, coAuthor };
}
