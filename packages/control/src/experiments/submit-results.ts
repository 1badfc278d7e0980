import {
  abExperimentKeySchema,
  abMetricIdSchema,
  abResultIdSchema,
  abVariantKeySchema,
  abVariationSchema,
  abVariationsMax,
  canonicalJson,
  ConflictError,
  ForbiddenError,
  parseWith,
} from '@tokenwise/core';
import {
  countTaggedRequests,
  findExperimentResult,
  findExperimentsServiceKey,
  findOrgUsersByIdOrEmail,
  insertExperimentResult,
  writeAudit,
  type Db,
  type ExperimentResultRow,
} from '@tokenwise/db';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** User ids and emails one result may assign, over all its variants. */
export const assignmentsMax = 100_000;
const emailLengthMax = 254;
const isoTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 time with a zone, e.g. 2026-01-01T00:00:00Z',
});
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A unit of the experiment: a Tokenwise user id, or the user's email. */
const assignee = z.union([z.uuid(), z.email().max(emailLengthMax)], {
  error: 'must be a user id (uuid) or an email',
});

/**
 * What an experimentation platform submits (tRPC `experiments.submitResults` and
 * `POST /webhooks/experiments` alike). Strict: an unknown field is refused by name.
 */
export const submitResultsInput = z
  .strictObject({
    resultId: abResultIdSchema,
    experimentKey: abExperimentKeySchema,
    metricId: abMetricIdSchema,
    higherIsBetter: z.boolean(),
    startedAt: isoTime,
    endedAt: isoTime.nullable().optional(),
    variations: z.array(abVariationSchema).min(2).max(abVariationsMax),
    assignments: z.record(abVariantKeySchema, z.array(assignee).max(assignmentsMax)),
  })
  .superRefine((input, ctx) => {
    const keys = input.variations.map((variation) => variation.key);
    if (new Set(keys).size !== keys.length)
      ctx.addIssue({ code: 'custom', path: ['variations'], message: 'variation keys must be distinct' });
    if (new Set(input.variations.map((variation) => variation.summary.kind)).size > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['variations'],
        message: 'every variation must carry the same metric kind',
      });
    const started = Date.parse(input.startedAt);
    if (input.endedAt !== undefined && input.endedAt !== null && Date.parse(input.endedAt) <= started)
      ctx.addIssue({ code: 'custom', path: ['endedAt'], message: 'must be after startedAt' });
    let total = 0;
    for (const [variantKey, units] of Object.entries(input.assignments)) {
      total += units.length;
      if (!keys.includes(variantKey))
        ctx.addIssue({
          code: 'custom',
          path: ['assignments', variantKey],
          message: `names no variation: assign units to one of ${keys.join(', ')}`,
        });
    }
    if (total > assignmentsMax)
      ctx.addIssue({
        code: 'custom',
        path: ['assignments'],
        message: `holds ${total} units; at most ${assignmentsMax} in all: submit fewer, or only the units that made tagged requests`,
      });
  });
export type SubmitResultsInput = z.input<typeof submitResultsInput>;

/** What a submission stored, or found stored by an earlier delivery of the same result. */
export interface SubmitResultsOutcome {
  resultId: string;
  stored: 'new' | 'duplicate';
  /** The org's usage rows tagged with the experiment at submission. */
  taggedRequests: number;
  /** Distinct users of the org found among the assignments. */
  assignedUsers: number;
  /** Ids and emails that name no user of the org (unknown, or of another org). */
  unmatchedAssignments: number;
}

/** The service key submitting: its id and org, from authentication. */
export interface ExperimentsService {
  keyId: string;
  orgId: string;
}

function contentSha256(input: z.output<typeof submitResultsInput>): string {
  // Units are a set per variant: their order is not content.
  const assignments = Object.fromEntries(
    Object.entries(input.assignments).map(([key, units]) => [key, [...new Set(units.map(normalizeUnit))].sort()]),
  );
  const content = { ...input, endedAt: input.endedAt ?? null, assignments };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

const normalizeUnit = (unit: string) => unit.toLowerCase();

function outcomeOf(row: ExperimentResultRow, stored: 'new' | 'duplicate'): SubmitResultsOutcome {
  return {
    resultId: row.resultId,
    stored,
    taggedRequests: row.taggedRequests,
    assignedUsers: row.assignedUsers,
    unmatchedAssignments: row.unmatchedAssignments,
  };
}

function sameOrConflict(row: ExperimentResultRow, sha256: string): SubmitResultsOutcome {
  if (row.contentSha256 !== sha256)
    throw new ConflictError(
      `Result ${row.resultId} was already submitted with other content (at ${row.createdAt.toISOString()}): a result id names one result; send a new resultId for a new result.`,
      { resultId: row.resultId },
    );
  return outcomeOf(row, 'duplicate');
}

async function resolveAssignments(
  db: Db,
  orgId: string,
  assignments: Record<string, string[]>,
): Promise<{ rows: { userId: string; variantKey: string }[]; assignedUsers: number; unmatched: number }> {
  const units = new Set<string>();
  for (const list of Object.values(assignments)) for (const unit of list) units.add(normalizeUnit(unit));
  const all = [...units];
  const found = await findOrgUsersByIdOrEmail(db, {
    orgId,
    userIds: all.filter((unit) => uuidPattern.test(unit)),
    emails: all.filter((unit) => !uuidPattern.test(unit)),
  });
  const userOf = new Map<string, string>();
  for (const user of found) {
    userOf.set(user.id.toLowerCase(), user.id);
    userOf.set(user.email.toLowerCase(), user.id);
  }
  const rows = new Map<string, { userId: string; variantKey: string }>();
  let unmatched = 0;
  for (const [variantKey, list] of Object.entries(assignments))
    for (const unit of new Set(list.map(normalizeUnit))) {
      const userId = userOf.get(unit);
      if (userId === undefined) unmatched++;
      else rows.set(`${variantKey}:${userId}`, { userId, variantKey });
    }
  const assignedUsers = new Set([...rows.values()].map((row) => row.userId)).size;
  return { rows: [...rows.values()], assignedUsers, unmatched };
}

/**
 * Stores a result for audit with its assignments (resolved to the key's org only) and its outbox
 * row, in one transaction, audited. The same result delivered again returns what was stored and
 * wakes nothing; the same result id with other content is a ConflictError.
 */
export async function submitExperimentResults(
  db: Db,
  params: { service: ExperimentsService; input: unknown; actor?: string },
): Promise<SubmitResultsOutcome> {
  const input = parseWith(submitResultsInput, params.input, 'experiment result');
  const sha256 = contentSha256(input);
  const { orgId, keyId } = params.service;
  const existing = await findExperimentResult(db, { orgId, resultId: input.resultId });
  if (existing !== undefined) return sameOrConflict(existing, sha256);
  const serviceKey = await findExperimentsServiceKey(db, { keyId });
  if (serviceKey === undefined || serviceKey.orgId !== orgId)
    throw new ForbiddenError(`API key ${keyId} is not a service key with the experiments scope.`);
  const resolved = await resolveAssignments(db, orgId, input.assignments);
  return db.transaction(async (tx) => {
    const taggedRequests = await countTaggedRequests(tx, { orgId, experimentKey: input.experimentKey });
    const row = await insertExperimentResult(tx, {
      result: {
        orgId,
        resultId: input.resultId,
        experimentKey: input.experimentKey,
        metricId: input.metricId,
        higherIsBetter: input.higherIsBetter,
        startedAt: new Date(input.startedAt),
        endedAt: input.endedAt === undefined || input.endedAt === null ? null : new Date(input.endedAt),
        variations: input.variations,
        contentSha256: sha256,
        submittedByKeyId: keyId,
        submitterUserId: serviceKey.createdByUserId,
        taggedRequests,
        assignedUsers: resolved.assignedUsers,
        unmatchedAssignments: resolved.unmatched,
      },
      assignments: resolved.rows,
    });
    if (row === undefined) {
      const winner = await findExperimentResult(tx, { orgId, resultId: input.resultId });
      if (winner === undefined) throw new ConflictError(`Result ${input.resultId} is being stored; send it again.`);
      return sameOrConflict(winner, sha256);
    }
    const outcome = outcomeOf(row, 'new');
    await writeAudit(tx, {
      orgId,
      actor: params.actor ?? `key:${keyId}`,
      action: 'experiment_result.submit',
      entityType: 'experiment_result',
      entityId: row.id,
      before: null,
      after: { ...outcome, experimentKey: row.experimentKey, metricId: row.metricId, contentSha256: sha256 },
    });
    return outcome;
  });
}
