import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { codecJsonb } from './columns';
import { orgs } from './orgs';
import { users } from './users';

/** How a GitHub login came to be linked: proven by its owner through the OAuth device flow, or set by an admin. */
export const githubProofs = ['device_flow', 'admin'] as const;
export type GithubProof = (typeof githubProofs)[number];

/**
 * The GitHub login each user has linked: one per user, and within an org one user per login
 * (case-insensitive, as GitHub compares logins), so nobody claims another person's merges.
 */
export const githubAccounts = pgTable(
  'github_accounts',
  {
    userId: uuid()
      .primaryKey()
      .references(() => users.id),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    login: text().notNull(),
    /** GitHub's numeric user id (stable across renames); unknown for an admin's link. */
    githubUserId: bigint({ mode: 'number' }),
    provenVia: text().$type<GithubProof>().notNull(),
    /** `user:<uuid>` of whoever linked it (the user themself for the device flow). */
    linkedBy: text().notNull(),
    linkedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('github_accounts_org_login_key').on(table.orgId, sql`lower(${table.login})`),
    check('github_accounts_proven_via', sql`${table.provenVia} in ('device_flow', 'admin')`),
  ],
);

/** Where one device-flow attempt stands; every state but `pending` is final. */
export const githubLinkStates = ['pending', 'linked', 'denied', 'expired', 'failed'] as const;
export type GithubLinkState = (typeof githubLinkStates)[number];

/**
 * One run of GitHub's OAuth device flow for a user. The device code is what redeems the token:
 * it stays on the server and never leaves through the API. The access token is never stored.
 */
export const githubLinkAttempts = pgTable(
  'github_link_attempts',
  {
    id: uuid().primaryKey().defaultRandom(),
    orgId: uuid()
      .notNull()
      .references(() => orgs.id),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    deviceCode: text().notNull(),
    userCode: text().notNull(),
    verificationUri: text().notNull(),
    intervalSeconds: integer().notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    /** GitHub is not asked again before this instant (its `interval`, raised by `slow_down`). */
    nextPollAt: timestamp({ withTimezone: true }).notNull(),
    state: text().$type<GithubLinkState>().notNull().default('pending'),
    /** How it ended: the login linked, or GitHub's error code / the reason (never a token). */
    outcome: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('github_link_attempts_user_idx').on(table.userId, table.createdAt),
    check('github_link_attempts_state', sql`${table.state} in ('pending', 'linked', 'denied', 'expired', 'failed')`),
    check('github_link_attempts_interval_positive', sql`${table.intervalSeconds} > 0`),
  ],
);

/** What the receiver did with a delivery. */
export const githubDeliveryOutcomes = ['evidence', 'ping', 'ignored'] as const;
export type GithubDeliveryOutcome = (typeof githubDeliveryOutcomes)[number];

/** Every webhook delivery received, by GitHub's `X-GitHub-Delivery` id: a redelivery finds its row and writes nothing. */
export const githubWebhookDeliveries = pgTable(
  'github_webhook_deliveries',
  {
    deliveryId: text().primaryKey(),
    event: text().notNull(),
    action: text(),
    outcome: text().$type<GithubDeliveryOutcome>().notNull(),
    /** Why it was ignored (e.g. `not the default branch`). */
    reason: text(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('github_webhook_deliveries_received_idx').on(table.receivedAt),
    check('github_webhook_deliveries_outcome', sql`${table.outcome} in ('evidence', 'ping', 'ignored')`),
  ],
);

export const githubEvidenceKinds = ['pull_request', 'push'] as const;
export type GithubEvidenceKind = (typeof githubEvidenceKinds)[number];

/** One commit of a push, as the evidence row keeps it. */
export interface GithubEvidenceCommit {
  sha: string;
  /** The message, cut at `githubCommitMessageCharsMax` (trailers were read from the whole message first). */
  message: string;
  /** The author's GitHub login when GitHub knows it (`author.username`), else null. */
  authorLogin: string | null;
  timestamp: string;
  requestIds: string[];
  sessionIds: string[];
  aiCoauthors: string[];
}

/**
 * What a merge into a default branch says (a `pull_request` closed and merged, or a `push`), as
 * received: the worker's relay reads it (outbox kind `github_evidence`) and signals the pending
 * settlements it concerns. It belongs to no org: the relay checks each request's user against the
 * linked login before it counts.
 */
export const githubEvidence = pgTable(
  'github_evidence',
  {
    id: uuid().primaryKey().defaultRandom(),
    deliveryId: text()
      .notNull()
      .references(() => githubWebhookDeliveries.deliveryId),
    kind: text().$type<GithubEvidenceKind>().notNull(),
    /** `owner/name` as GitHub sent it, and lower-cased for lookups. */
    repositoryFullName: text().notNull(),
    repositoryKey: text().notNull(),
    pullNumber: integer(),
    /** The branch merged into (the default branch), without `refs/heads/`. */
    baseRef: text().notNull(),
    /** The pull request's merge commit, or the push's `after`. */
    mergeCommitSha: text(),
    /**
     * The push's `before` (all zeros when the push created the branch): the relay diffs
     * `before...after`. Null for a pull request, and for pushes recorded before it was kept.
     */
    beforeSha: text(),
    /** The push rewrote the branch's history (`forced`); always false for a pull request. */
    forced: boolean().notNull().default(false),
    /** The pull request's author, or the pusher (`sender`). */
    authorLogin: text(),
    mergedByLogin: text(),
    mergedAt: timestamp({ withTimezone: true }),
    commits: codecJsonb().$type<GithubEvidenceCommit[]>().notNull(),
    /** Provenance trailers of all its messages (`Tokenwise-Request`, `Tokenwise-Session`), each once. */
    requestIds: text().array().notNull(),
    sessionIds: text().array().notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('github_evidence_delivery_key').on(table.deliveryId),
    index('github_evidence_repository_idx').on(table.repositoryKey, table.receivedAt),
    index('github_evidence_request_ids_idx').using('gin', table.requestIds),
    index('github_evidence_session_ids_idx').using('gin', table.sessionIds),
    check('github_evidence_kind', sql`${table.kind} in ('pull_request', 'push')`),
  ],
);
