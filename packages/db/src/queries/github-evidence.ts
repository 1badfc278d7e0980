import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import {
  githubEvidence,
  githubWebhookDeliveries,
  outbox,
  type GithubDeliveryOutcome,
  type GithubEvidenceCommit,
  type GithubEvidenceKind,
} from '../schema/index';

/** The outbox kind of an evidence row; the outbox row's `request_id` holds the evidence id. */
export const githubEvidenceOutboxKind = 'github_evidence';

/** The evidence a merge or push carries, as the receiver parsed it. */
export interface GithubEvidenceInput {
  kind: GithubEvidenceKind;
  repositoryFullName: string;
  pullNumber: number | null;
  baseRef: string;
  mergeCommitSha: string | null;
  /** A push's `before` (all zeros for a new branch); null for a pull request. */
  beforeSha: string | null;
  /** A push that rewrote history. */
  forced: boolean;
  authorLogin: string | null;
  mergedByLogin: string | null;
  mergedAt: Date | null;
  commits: GithubEvidenceCommit[];
  requestIds: string[];
  sessionIds: string[];
}

export interface GithubEvidence extends GithubEvidenceInput {
  id: string;
  deliveryId: string;
  repositoryKey: string;
  receivedAt: Date;
}

/**
 * Records one webhook delivery, in one transaction: its row, and for `evidence` the evidence row
 * and its outbox row (kind `github_evidence`). A delivery id seen before writes nothing and
 * answers `replay`, also when two identical deliveries race.
 */
export async function recordGithubDelivery(
  db: Db,
  params: {
    deliveryId: string;
    event: string;
    action: string | null;
    outcome: GithubDeliveryOutcome;
    reason: string | null;
    evidence?: GithubEvidenceInput;
  },
): Promise<{ recorded: true; evidenceId: string | null } | { recorded: false }> {
  return db.transaction(async (tx) => {
    const [delivery] = await tx
      .insert(githubWebhookDeliveries)
      .values({
        deliveryId: params.deliveryId,
        event: params.event,
        action: params.action,
        outcome: params.outcome,
        reason: params.reason,
      })
      .onConflictDoNothing()
      .returning({ deliveryId: githubWebhookDeliveries.deliveryId });
    if (delivery === undefined) return { recorded: false };
    if (params.evidence === undefined) return { recorded: true, evidenceId: null };
    const [row] = await tx
      .insert(githubEvidence)
      .values({
        ...params.evidence,
        deliveryId: params.deliveryId,
        repositoryKey: params.evidence.repositoryFullName.toLowerCase(),
      })
      .returning({ id: githubEvidence.id });
    if (row === undefined) throw new Error('insert returned no row');
    await tx.insert(outbox).values({ requestId: row.id, kind: githubEvidenceOutboxKind });
    return { recorded: true, evidenceId: row.id };
  });
}

/** One evidence row by id (the outbox row's `request_id`), or undefined. */
export async function findGithubEvidence(db: Db, params: { id: string }): Promise<GithubEvidence | undefined> {
  const [row] = await db
    .select({
      id: githubEvidence.id,
      deliveryId: githubEvidence.deliveryId,
      kind: githubEvidence.kind,
      repositoryFullName: githubEvidence.repositoryFullName,
      repositoryKey: githubEvidence.repositoryKey,
      pullNumber: githubEvidence.pullNumber,
      baseRef: githubEvidence.baseRef,
      mergeCommitSha: githubEvidence.mergeCommitSha,
      beforeSha: githubEvidence.beforeSha,
      forced: githubEvidence.forced,
      authorLogin: githubEvidence.authorLogin,
      mergedByLogin: githubEvidence.mergedByLogin,
      mergedAt: githubEvidence.mergedAt,
      commits: githubEvidence.commits,
      requestIds: githubEvidence.requestIds,
      sessionIds: githubEvidence.sessionIds,
      receivedAt: githubEvidence.receivedAt,
    })
    .from(githubEvidence)
    .where(eq(githubEvidence.id, params.id));
  return row;
}

/** The delivery row of `deliveryId`, or undefined: what the receiver did with it. */
export async function findGithubDelivery(db: Db, params: { deliveryId: string }) {
  const [row] = await db
    .select({
      deliveryId: githubWebhookDeliveries.deliveryId,
      event: githubWebhookDeliveries.event,
      action: githubWebhookDeliveries.action,
      outcome: githubWebhookDeliveries.outcome,
      reason: githubWebhookDeliveries.reason,
      receivedAt: githubWebhookDeliveries.receivedAt,
    })
    .from(githubWebhookDeliveries)
    .where(eq(githubWebhookDeliveries.deliveryId, params.deliveryId));
  return row;
}
