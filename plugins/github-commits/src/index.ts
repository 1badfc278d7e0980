import { githubCommits } from './github-commits';

/** Commit linkage (issue #16). `./testing` holds the local GitHub REST server its tests drive with the real @octokit/rest. */
export default githubCommits;
export { confidenceOf, githubCommits, githubCommitsVersion } from './github-commits';
export {
  githubCommitsConfigSchema,
  repositoriesMax,
  type GithubCommitsConfig,
  type GithubCommitsConfigInput,
} from './config';
export {
  githubCommitsPluginId,
  githubEvidenceId,
  githubEvidenceIdCharsMax,
  githubMatchEvidenceId,
  githubPushEvidenceId,
  githubEvidencePayload,
  githubEvidencePayloadSchema,
  githubEvidenceSource,
  repoFullNamePattern,
  type GithubEvidencePayload,
} from './evidence';
export {
  createGithubClient,
  githubClientForConfig,
  GithubRateLimitError,
  rateLimitRetriesDefault,
  rateLimitWaitSecondsDefault,
  requestTimeoutMsDefault,
  serverErrorRetriesDefault,
  type GithubClient,
  type GithubClientOptions,
} from './github-client';
export { etagCacheBodyBytesMax, etagCacheEntriesDefault } from './etag-cache';
export {
  approvedByOther,
  commitMessageCharsMax,
  listMergedPullsSince,
  loadMergedPull,
  pollPullsMax,
  pollReposMax,
  pullCommitsMax,
  pullFilesMax,
  pullPatchLinesMax,
  pullReviewsMax,
  type MergedPull,
  type MergedPullCommit,
  type MergedPullFile,
  type MergedPullSummary,
  type PollQuery,
  type PullRef,
} from './merged-pull';
export {
  fingerprintPull,
  matchCandidatesMax,
  matchPullToRequests,
  windowDaysDefault,
  windowDaysMax,
  type FingerprintedPull,
  type MatchOptions,
  type PendingRequest,
  type RequestMatch,
} from './match-pull';
export {
  loadPushedCode,
  loadPushedCodeByAuthor,
  pushCommitsMax,
  pushSplitCommitsMax,
  slicePatch,
  soleAuthor,
  zeroSha,
  type PushRef,
} from './pushed-code';
export { extractBaseLines } from './base-lines';
export { minifiedLineCharsMin, skippedFileReason, type SkipReason } from './skip-files';
export { completionEvidenceKeys, fingerprintKey, requestKey, sessionKey } from './evidence-keys';
