import {
  ConflictError,
  ForbiddenError,
  gramsToMicrograms,
  invariant,
  microgramsToGrams,
  NotFoundError,
  ValidationError,
  type CarbonScope,
} from '@tokenwise/core';
import {
  currentCarbonCap,
  decideCarbonRaiseIfPending,
  findCarbonRaise,
  findTeamInOrg,
  findUserLabel,
  insertCarbonRaise,
  listCarbonRaises,
  type CarbonRaise,
  type CarbonRaiseState,
  type CarbonRaiseVisibility,
  type Db,
} from '@tokenwise/db';
import type { Role } from '@tokenwise/db/schema';
import { checkRaiseUntil, raiseDeadlineMsDefault, raiseDeadlineMsMax, raiseDeadlineMsMin } from './raise-dates';
import {
  applyRaiseGrant,
  capPeriodKind,
  grantPeriodOf,
  orgTimeZone,
  raiseDeadlineDecider,
  type RaiseDeps,
} from './raise-grant';

/** Who is asking or deciding: a user of one org with their roles now. */
export interface RaiseActor {
  userId: string;
  orgId: string;
  teamId: string | null;
  roles: readonly Role[];
}

export const raiseReasonCharsMax = 1000;
export const raiseNoteCharsMax = 1000;

/** Grams as micrograms; a refusal names the `grams` field, as input validation does. */
function microgramsOf(grams: number): bigint {
  try {
    return gramsToMicrograms(grams, 'grams');
  } catch (error) {
    if (error instanceof ValidationError)
      throw new ValidationError(error.message, { issues: [`grams: ${error.message}`] });
    throw error;
  }
}

const has = (actor: RaiseActor, role: Role) => actor.roles.includes(role);
const actorLabel = (actor: RaiseActor) => `user:${actor.userId}`;

/** The scope id a caller may raise: their own user id, their own team (leads), any team or the org (ESG officers, admins). */
async function raisableScopeId(
  db: Db,
  actor: RaiseActor,
  params: { scope: CarbonScope; teamId?: string },
): Promise<string> {
  const officer = has(actor, 'esg') || has(actor, 'admin');
  if (params.scope === 'user') return actor.userId;
  if (params.scope === 'org') {
    if (!officer) throw new ForbiddenError("Only ESG officers and admins may ask to raise the org's carbon cap.");
    return actor.orgId;
  }
  // A lead's own team when none is named.
  const teamId = params.teamId ?? actor.teamId ?? undefined;
  if (teamId === undefined)
    throw new ValidationError('teamId is required for a team raise.', { issues: ['teamId: required'] });
  const team = await findTeamInOrg(db, { teamId, orgId: actor.orgId });
  if (team === undefined) throw new NotFoundError(`No team ${teamId} in your org.`);
  if (!officer && !(has(actor, 'lead') && actor.teamId === team.id))
    throw new ForbiddenError(
      `Only the lead of team ${team.slug}, an ESG officer or an admin may ask to raise its cap.`,
    );
  return team.id;
}

/**
 * Asks to raise the current cap of the caller's own budget, their team's (a lead) or the org's
 * (ESG officers, admins) by `grams`, for the current period or each period through `until`. The
 * row, its outbox row (the relay starts the approval workflow from it) and its audit row commit together.
 */
export async function requestRaise(
  db: Db,
  actor: RaiseActor,
  params: {
    scope: CarbonScope;
    teamId?: string;
    grams: number;
    reason: string;
    until?: string;
    now?: Date;
    /** How long officers have to decide (default {@link raiseDeadlineMsDefault}). */
    deadlineMs?: number;
  },
): Promise<{ raiseId: string; raise: CarbonRaise }> {
  const now = params.now ?? new Date();
  const deadlineMs = params.deadlineMs ?? raiseDeadlineMsDefault;
  invariant(
    Number.isInteger(deadlineMs) && deadlineMs >= raiseDeadlineMsMin && deadlineMs <= raiseDeadlineMsMax,
    `a raise deadline is ${raiseDeadlineMsMin}..${raiseDeadlineMsMax} ms, got ${deadlineMs}`,
  );
  const requestedMicrograms = microgramsOf(params.grams);
  if (requestedMicrograms <= 0n)
    throw new ValidationError('grams must be more than 0.', { issues: ['grams: must be more than 0'] });
  const reason = params.reason.trim();
  if (reason.length < 1 || reason.length > raiseReasonCharsMax)
    throw new ValidationError(`reason must be 1..${raiseReasonCharsMax} characters.`, { issues: ['reason: length'] });
  const scopeId = await raisableScopeId(db, actor, params);
  const timeZone = await orgTimeZone(db, actor.orgId);
  const until = params.until === undefined ? null : checkRaiseUntil(params.until, { now, timeZone });
  const cap = await currentCarbonCap(db, { scope: params.scope, scopeId });
  if (cap === undefined || cap.hardMicrograms === null)
    throw new ValidationError(
      `There is no carbon cap on this ${params.scope} to raise: without a cap its emissions are not limited.`,
      { issues: ['scope: no cap to raise'] },
    );
  const raise = await insertCarbonRaise(db, {
    orgId: actor.orgId,
    scope: params.scope,
    scopeId,
    requestedBy: actor.userId,
    requestedMicrograms,
    reason,
    until,
    deadlineAt: new Date(now.getTime() + deadlineMs),
    actor: actorLabel(actor),
  });
  return { raiseId: raise.id, raise };
}

/** Who decided a raise and when, as the CONFLICT message of a later decision says it. */
async function decidedAlready(db: Db, raise: CarbonRaise): Promise<ConflictError> {
  const at = raise.decidedAt?.toISOString() ?? 'an unknown time';
  const who =
    raise.decidedBy === raiseDeadlineDecider || raise.decidedBy === null
      ? 'its deadline (no ESG officer decided in time)'
      : ((await findUserLabel(db, { userId: raise.decidedBy })) ?? `user ${raise.decidedBy}`);
  return new ConflictError(`Carbon raise ${raise.id} was already ${raise.state} by ${who} at ${at}.`, {
    raiseId: raise.id,
    state: raise.state,
    decidedBy: raise.decidedBy,
    decidedAt: raise.decidedAt?.toISOString() ?? null,
  });
}

/** What an approval grants: `grams` when given (more than 0, never above what was asked), else all of it. */
function grantedMicrogramsOf(raise: CarbonRaise, grams: number | undefined): bigint {
  if (grams === undefined) return raise.requestedMicrograms;
  const granted = microgramsOf(grams);
  if (granted <= 0n)
    throw new ValidationError('grams must be more than 0: deny the raise instead.', { issues: ['grams: not > 0'] });
  if (granted > raise.requestedMicrograms)
    throw new ValidationError(
      `grams ${grams} is more than the ${microgramsToGrams(raise.requestedMicrograms)} g asked for: an approval may grant less, never more.`,
      { issues: ['grams: more than asked'] },
    );
  return granted;
}

/**
 * An ESG officer's decision on a raise of their org. The first decision wins (a conditional update
 * from pending); a later one is CONFLICT naming who decided and when. An approval's grant is in the
 * ledger before this returns, so the budget shows it at once.
 */
export async function decideRaise(
  deps: RaiseDeps,
  actor: RaiseActor,
  params: { raiseId: string; decision: 'approve' | 'deny'; grams?: number; note?: string; now?: Date },
): Promise<CarbonRaise> {
  if (!has(actor, 'esg'))
    throw new ForbiddenError(
      `Only ESG officers decide carbon raises; you have ${actor.roles.join(', ') || 'no role'}. Ask an ESG officer of your org.`,
    );
  const note = params.note?.trim() === '' ? undefined : params.note?.trim();
  if (note !== undefined && note.length > raiseNoteCharsMax)
    throw new ValidationError(`note must be at most ${raiseNoteCharsMax} characters.`, { issues: ['note: length'] });
  const raise = await findCarbonRaise(deps.db, { raiseId: params.raiseId, orgId: actor.orgId });
  if (raise === undefined) throw new NotFoundError(`No carbon raise ${params.raiseId} in your org.`);
  if (raise.state !== 'pending') throw await decidedAlready(deps.db, raise);
  const now = params.now ?? new Date();
  const approve = params.decision === 'approve';
  const grantedMicrograms = approve ? grantedMicrogramsOf(raise, params.grams) : null;
  const grantedPeriod = approve
    ? grantPeriodOf(now, await orgTimeZone(deps.db, raise.orgId), await capPeriodKind(deps.db, raise))
    : null;
  const { won, raise: decided } = await decideCarbonRaiseIfPending(deps.db, {
    raiseId: raise.id,
    state: approve ? 'approved' : 'denied',
    decidedBy: actor.userId,
    decidedAt: now,
    grantedMicrograms,
    grantedPeriod,
    note: note ?? null,
    actor: actorLabel(actor),
  });
  if (decided === undefined) throw new NotFoundError(`No carbon raise ${params.raiseId} in your org.`);
  if (!won) throw await decidedAlready(deps.db, decided);
  if (decided.state === 'approved') await applyRaiseGrant(deps.ledger, decided);
  return decided;
}

/** Whose raises the caller sees: ESG officers and admins the org's, a lead their team's and their own, anyone else their own. */
export function raisesVisibleTo(actor: RaiseActor): CarbonRaiseVisibility {
  if (has(actor, 'esg') || has(actor, 'admin')) return { orgId: actor.orgId };
  return { orgId: actor.orgId, teamId: has(actor, 'lead') ? actor.teamId : null, userId: actor.userId };
}

/** The raises the caller may see, newest first. */
export async function listRaises(
  db: Db,
  actor: RaiseActor,
  params: { state?: CarbonRaiseState },
): Promise<CarbonRaise[]> {
  return listCarbonRaises(db, { visibility: raisesVisibleTo(actor), state: params.state });
}

/** A raise as people read it: grams as numbers, instants as ISO strings. */
export function raiseView(raise: CarbonRaise) {
  return {
    raiseId: raise.id,
    scope: raise.scope,
    scopeId: raise.scopeId,
    requestedBy: raise.requestedBy,
    requestedGrams: microgramsToGrams(raise.requestedMicrograms),
    reason: raise.reason,
    until: raise.until,
    state: raise.state,
    deadlineAt: raise.deadlineAt.toISOString(),
    decidedBy: raise.decidedBy,
    decidedAt: raise.decidedAt?.toISOString() ?? null,
    grantedGrams: raise.grantedMicrograms === null ? null : microgramsToGrams(raise.grantedMicrograms),
    grantedPeriod: raise.grantedPeriod,
    note: raise.note,
    endedAt: raise.endedAt?.toISOString() ?? null,
    createdAt: raise.createdAt.toISOString(),
  };
}
