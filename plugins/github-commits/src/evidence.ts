import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RequestMatch } from './match-pull';

/**
 * The contract between the worker's GitHub relay and this plugin: the payload of the external
 * evidence one merged pull request sends to the settlement of each request it matched
 * (`matchPullToRequests`' output, one entry per request). The relay decides what the plugin cannot
 * check itself (whose login the pull request is, which lines are credited to which request); the
 * plugin turns it into a score. It fits the host's 4 KiB evidence payload with room to spare.
 */

/** Plugin id, the evidence's `pluginId`. */
export const githubCommitsPluginId = 'github-commits';
/** `source` of the evidence the relay sends. */
export const githubEvidenceSource = 'github';
/** The host's bound on evidence ids. */
export const githubEvidenceIdCharsMax = 128;
export const requestIdCharsMax = 64;
export const pullUrlCharsMax = 512;
/** A bound on token counts far above any completion the gateway lets through. */
export const tokenCountMax = 10_000_000;

/**
 * Evidence id of one pull request's evidence: one per pull request and settlement, so a redelivered
 * webhook or a poll that finds the same merge again is counted once.
 */
export function githubEvidenceId(repo: string, pullNumber: number): string {
  const readable = `github-pull-${repo.toLowerCase()}#${pullNumber}`;
  if (readable.length <= githubEvidenceIdCharsMax) return readable;
  return `github-pull-${createHash('sha256').update(`${repo.toLowerCase()}#${pullNumber}`).digest('hex')}`;
}

/**
 * Evidence id of one push's evidence: one per push (its `after`) and settlement, so a redelivered
 * push wakes nothing twice.
 */
export function githubPushEvidenceId(repo: string, after: string): string {
  const readable = `github-push-${repo.toLowerCase()}@${after.toLowerCase()}`;
  if (readable.length <= githubEvidenceIdCharsMax) return readable;
  return `github-push-${createHash('sha256').update(`${repo.toLowerCase()}@${after.toLowerCase()}`).digest('hex')}`;
}

/** The evidence id of one match: per pull request, or per push. */
export function githubMatchEvidenceId(pull: { repo: string; number: number; after?: string }): string {
  return pull.after === undefined
    ? githubEvidenceId(pull.repo, pull.number)
    : githubPushEvidenceId(pull.repo, pull.after);
}

/** `owner/name` as GitHub allows them. */
export const repoFullNamePattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

const count = z.number().int().min(0).max(tokenCountMax);

export const githubEvidencePayloadSchema = z
  .object({
    v: z.literal(1),
    requestId: z.string().min(1).max(requestIdCharsMax),
    containment: z.number().min(0).max(1),
    matchedTokens: count,
    longestRunTokens: count,
    provenance: z.enum(['request', 'session']).nullable(),
    coAuthor: z.boolean(),
    selfMerged: z.boolean(),
    approvedByOther: z.boolean(),
    /** Where the code landed: a pull request (`number`), or a push to the default branch (`number` 0, `after`). */
    pull: z.object({
      repo: z.string().regex(repoFullNamePattern, 'must be owner/name'),
      number: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
      after: z
        .string()
        .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, 'must be a commit sha')
        .optional(),
      url: z
        .string()
        .max(pullUrlCharsMax)
        .regex(/^https?:\/\//, 'must be an http(s) URL'),
      mergedAt: z.iso.datetime({ offset: true }),
    }),
  })
  .refine((payload) => payload.longestRunTokens <= payload.matchedTokens, {
    message: 'longestRunTokens cannot exceed matchedTokens',
    path: ['longestRunTokens'],
  })
  .refine((payload) => (payload.pull.number === 0) === (payload.pull.after !== undefined), {
    message: 'a pull request has a number (from 1) and no after; a push has number 0 and its after sha',
    path: ['pull'],
  });
export type GithubEvidencePayload = z.output<typeof githubEvidencePayloadSchema>;

/** The evidence payload of one match, checked against the schema. */
export function githubEvidencePayload(match: RequestMatch): GithubEvidencePayload {
  return githubEvidencePayloadSchema.parse({ v: 1, ...match });
}
