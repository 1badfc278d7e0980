import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { requestPayloads, usageRecords } from '../schema/index';

/** What scoring reads of one past request: its usage row and, unless purged, its stored prompt and completion. */
export interface ScoringRequestRecord {
  requestId: string;
  orgId: string;
  userId: string | null;
  teamId: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
  cost: bigint;
  currency: string;
  tags: unknown;
  /** The validated `x-tokenwise-session` and `x-tokenwise-experiment` of the request; null when untagged. */
  sessionId: string | null;
  experimentKey: string | null;
  variantKey: string | null;
  /** Usage of system accounts (judge calls) is never scored. */
  system: boolean;
  createdAt: Date;
  /** The stored prompt (chat messages or prompt text); null when the payload was purged or never stored. */
  prompt: unknown;
  completion: string | null;
}

/**
 * The request as a scoring plugin sees it, loaded by id: the settlement activity and the API's
 * dry run both read it here, so a dry run scores exactly what settlement would.
 */
export async function findScoringRequest(
  db: Db,
  params: { requestId: string },
): Promise<ScoringRequestRecord | undefined> {
  const [row] = await db
    .select({
      requestId: usageRecords.requestId,
      orgId: usageRecords.orgId,
      userId: usageRecords.userId,
      teamId: usageRecords.teamId,
      model: usageRecords.model,
      promptTokens: usageRecords.promptTokens,
      completionTokens: usageRecords.completionTokens,
      cost: usageRecords.cost,
      currency: usageRecords.currency,
      tags: usageRecords.tags,
      sessionId: usageRecords.sessionId,
      experimentKey: usageRecords.experimentKey,
      variantKey: usageRecords.variantKey,
      system: usageRecords.system,
      createdAt: usageRecords.createdAt,
      prompt: requestPayloads.prompt,
      completion: requestPayloads.completion,
    })
    .from(usageRecords)
    .leftJoin(requestPayloads, eq(requestPayloads.requestId, usageRecords.requestId))
    .where(eq(usageRecords.requestId, params.requestId))
    .limit(1);
  return row;
}
