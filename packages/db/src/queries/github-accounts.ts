import { and, desc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { githubAccounts, githubLinkAttempts, users, type GithubLinkState, type GithubProof } from '../schema/index';
import { writeAudit } from './audit';

/** A linked login, as shown to its user and admins. */
export interface GithubAccount {
  userId: string;
  orgId: string;
  login: string;
  githubUserId: number | null;
  provenVia: GithubProof;
  linkedBy: string;
  linkedAt: Date;
}

const accountColumns = {
  userId: githubAccounts.userId,
  orgId: githubAccounts.orgId,
  login: githubAccounts.login,
  githubUserId: githubAccounts.githubUserId,
  provenVia: githubAccounts.provenVia,
  linkedBy: githubAccounts.linkedBy,
  linkedAt: githubAccounts.linkedAt,
};

/** The login `userId` of `orgId` has linked, or undefined. */
export async function findGithubAccount(
  db: Db,
  params: { orgId: string; userId: string },
): Promise<GithubAccount | undefined> {
  const [row] = await db
    .select(accountColumns)
    .from(githubAccounts)
    .where(and(eq(githubAccounts.orgId, params.orgId), eq(githubAccounts.userId, params.userId)));
  return row;
}

/** The user of `orgId` who linked `login` (case-insensitive), or undefined: how merges are credited. */
export async function findGithubAccountByLogin(
  db: Db,
  params: { orgId: string; login: string },
): Promise<GithubAccount | undefined> {
  const [row] = await db
    .select(accountColumns)
    .from(githubAccounts)
    .where(and(eq(githubAccounts.orgId, params.orgId), sql`lower(${githubAccounts.login}) = lower(${params.login})`));
  return row;
}

/**
 * Links `login` to `userId` (replacing the user's earlier login), audited, under a lock on the
 * org's login so two users racing for one login cannot both win. A login another user of the org
 * holds is not taken: the answer names that user for the caller to refuse (never to show).
 * Undefined when `userId` is not a user of `orgId`.
 */
export async function linkGithubAccount(
  db: Db,
  params: {
    orgId: string;
    userId: string;
    login: string;
    githubUserId: number | null;
    provenVia: GithubProof;
    actor: string;
  },
): Promise<{ linked: GithubAccount } | { heldBy: string } | undefined> {
  return db.transaction(async (tx) => {
    const [member] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.id, params.userId), eq(users.orgId, params.orgId)));
    if (member === undefined) return undefined;
    const lockKey = `github-login:${params.orgId}:${params.login.toLowerCase()}`;
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`);
    const holder = await findGithubAccountByLogin(tx, { orgId: params.orgId, login: params.login });
    if (holder !== undefined && holder.userId !== params.userId) return { heldBy: holder.userId };
    const before = (await findGithubAccount(tx, { orgId: params.orgId, userId: params.userId })) ?? null;
    const values = {
      login: params.login,
      githubUserId: params.githubUserId,
      provenVia: params.provenVia,
      linkedBy: params.actor,
      linkedAt: new Date(),
    };
    const [linked] = await tx
      .insert(githubAccounts)
      .values({ userId: params.userId, orgId: params.orgId, ...values })
      .onConflictDoUpdate({ target: githubAccounts.userId, set: values, where: eq(githubAccounts.orgId, params.orgId) })
      .returning(accountColumns);
    if (linked === undefined) throw new Error(`user ${params.userId} is not of org ${params.orgId}`);
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'github.link',
      entityType: 'user',
      entityId: params.userId,
      before: before === null ? null : { login: before.login, provenVia: before.provenVia },
      after: { login: linked.login, githubUserId: linked.githubUserId, provenVia: linked.provenVia },
    });
    return { linked };
  });
}

/** Removes the user's link, audited; answers the login it removed, or undefined when there was none. */
export async function unlinkGithubAccount(
  db: Db,
  params: { orgId: string; userId: string; actor: string },
): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    const [removed] = await tx
      .delete(githubAccounts)
      .where(and(eq(githubAccounts.orgId, params.orgId), eq(githubAccounts.userId, params.userId)))
      .returning({ login: githubAccounts.login, provenVia: githubAccounts.provenVia });
    if (removed === undefined) return undefined;
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'github.unlink',
      entityType: 'user',
      entityId: params.userId,
      before: removed,
      after: null,
    });
    return removed.login;
  });
}

/** A device-flow attempt with its device code: for the server only, never an API answer. */
export interface GithubLinkAttempt {
  id: string;
  orgId: string;
  userId: string;
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  intervalSeconds: number;
  expiresAt: Date;
  nextPollAt: Date;
  state: GithubLinkState;
  outcome: string | null;
}

const attemptColumns = {
  id: githubLinkAttempts.id,
  orgId: githubLinkAttempts.orgId,
  userId: githubLinkAttempts.userId,
  deviceCode: githubLinkAttempts.deviceCode,
  userCode: githubLinkAttempts.userCode,
  verificationUri: githubLinkAttempts.verificationUri,
  intervalSeconds: githubLinkAttempts.intervalSeconds,
  expiresAt: githubLinkAttempts.expiresAt,
  nextPollAt: githubLinkAttempts.nextPollAt,
  state: githubLinkAttempts.state,
  outcome: githubLinkAttempts.outcome,
};

/** Records a started device flow, pending, first poll due at `nextPollAt`. */
export async function createGithubLinkAttempt(
  db: Db,
  params: Omit<GithubLinkAttempt, 'id' | 'state' | 'outcome'>,
): Promise<GithubLinkAttempt> {
  const [row] = await db.insert(githubLinkAttempts).values(params).returning(attemptColumns);
  if (row === undefined) throw new Error('insert returned no row');
  return row;
}

/** The user's attempt `id`, or undefined (another user's or org's attempt is not found). */
export async function findGithubLinkAttempt(
  db: Db,
  params: { orgId: string; userId: string; id: string },
): Promise<GithubLinkAttempt | undefined> {
  const [row] = await db
    .select(attemptColumns)
    .from(githubLinkAttempts)
    .where(
      and(
        eq(githubLinkAttempts.id, params.id),
        eq(githubLinkAttempts.orgId, params.orgId),
        eq(githubLinkAttempts.userId, params.userId),
      ),
    );
  return row;
}

/** The user's newest attempt that is still pending and unexpired at `now`, or undefined. */
export async function findOpenGithubLinkAttempt(
  db: Db,
  params: { orgId: string; userId: string; now: Date },
): Promise<GithubLinkAttempt | undefined> {
  const [row] = await db
    .select(attemptColumns)
    .from(githubLinkAttempts)
    .where(
      and(
        eq(githubLinkAttempts.orgId, params.orgId),
        eq(githubLinkAttempts.userId, params.userId),
        eq(githubLinkAttempts.state, 'pending'),
        gt(githubLinkAttempts.expiresAt, params.now),
      ),
    )
    .orderBy(desc(githubLinkAttempts.createdAt))
    .limit(1);
  return row;
}

/**
 * Takes the right to ask GitHub now: moves a pending attempt's next poll to `nextPollAt` when it
 * was due at `now`. True for the one caller that won; a concurrent or early poll gets false.
 */
export async function claimGithubLinkPoll(
  db: Db,
  params: { id: string; now: Date; nextPollAt: Date },
): Promise<boolean> {
  const claimed = await db
    .update(githubLinkAttempts)
    .set({ nextPollAt: params.nextPollAt, updatedAt: params.now })
    .where(
      and(
        eq(githubLinkAttempts.id, params.id),
        eq(githubLinkAttempts.state, 'pending'),
        lte(githubLinkAttempts.nextPollAt, params.now),
      ),
    )
    .returning({ id: githubLinkAttempts.id });
  return claimed.length > 0;
}

/** Updates a pending attempt (a new interval, or its final state and outcome); a final attempt stays as it ended. */
export async function updateGithubLinkAttempt(
  db: Db,
  params: {
    id: string;
    now: Date;
    state?: GithubLinkState;
    outcome?: string;
    intervalSeconds?: number;
    nextPollAt?: Date;
  },
): Promise<void> {
  await db
    .update(githubLinkAttempts)
    .set({
      state: params.state,
      outcome: params.outcome,
      intervalSeconds: params.intervalSeconds,
      nextPollAt: params.nextPollAt,
      updatedAt: params.now,
    })
    .where(and(eq(githubLinkAttempts.id, params.id), eq(githubLinkAttempts.state, 'pending')));
}
