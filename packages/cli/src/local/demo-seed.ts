import { currencyByCode, parseAmount } from '@tokenwise/core';
import {
  setPlatformOrg,
  createOrg,
  createTeam,
  createUser,
  currentCarbonCap,
  currentScoringConfig,
  currentSettlementPolicy,
  findOrgBySlug,
  findTeamBySlug,
  findTeamInOrg,
  findUserByEmail,
  getSettlementBounds,
  publishScoringConfig,
  publishSettlementPolicy,
  setSettlementBounds,
  type Db,
  type Org,
  type Team,
} from '@tokenwise/db';
import { orgs, type Role } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { createApiKey, setCarbonCap } from '@tokenwise/control';
import { applyJudgeBudget, type Ledger } from '@tokenwise/ledger';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { demoGithubScoring } from './demo-github';

/** What `npm start` hands a new user: where everything is, and a working key per demo user. */
export interface DevFile {
  gatewayUrl: string;
  /** The tRPC API's URL. */
  apiUrl: string | null;
  temporalUiUrl: string | null;
  /** The Slack bot's HTTP receiver, `http://127.0.0.1:<port>` with no path (Slack posts to /slack/events); null when the bot is off or on Socket Mode. */
  slackUrl: string | null;
  /** The local GitHub stand-in's REST base (the research team's commit linkage reads it); null when the operator configured GitHub. */
  githubUrl: string | null;
  models: string[];
  /** Ids as the API uses them; `team` is the team's slug (null for those without a team, such as the ESG officer). */
  users: {
    email: string;
    userId: string;
    teamId: string | null;
    team: string | null;
    roles: Role[];
    apiKey: string;
  }[];
}

export const devFileName = 'dev.json';
export const demoOrgSlug = 'demo';
const actor = 'system:demo-seed';

interface DemoUser {
  email: string;
  name: string;
  team: string | null;
  roles: Role[];
  innovation: string;
  priority?: string;
}

/** One user per role; the lead also holds priority tokens, to try the urgent tier. */
export const demoUsers: readonly DemoUser[] = [
  { email: 'ada@demo.test', name: 'Ada (employee)', team: 'platform', roles: ['employee'], innovation: '1000' },
  {
    email: 'lin@demo.test',
    name: 'Lin (lead of platform)',
    team: 'platform',
    roles: ['employee', 'lead'],
    innovation: '1000',
    priority: '50',
  },
  { email: 'ray@demo.test', name: 'Ray (employee)', team: 'research', roles: ['employee'], innovation: '1000' },
  { email: 'eve@demo.test', name: 'Eve (ESG officer)', team: null, roles: ['esg'], innovation: '200' },
  { email: 'root@demo.test', name: 'Root (admin)', team: null, roles: ['admin'], innovation: '200' },
];
const demoTeams = [
  { slug: 'platform', name: 'Platform' },
  { slug: 'research', name: 'Research' },
] as const;

/** Refund a quarter of the cost for useful work, half for excellent work; a small priority reward on top. */
const demoPolicy = {
  refunds: [
    { minScore: 0.5, shareBps: 2_500 },
    { minScore: 0.8, shareBps: 5_000 },
  ],
  reward: { minScore: 0.9, amount: '1000000', currency: 'priority' },
  minConfidence: 0.5,
};
const demoBounds = { maxRefundShareBps: 5_000, maxRewardPerRequest: '2000000' };

export interface SeedOptions {
  db: Db;
  ledger: Ledger;
  keyPepper: Buffer;
  dataDir: string;
  /** The gateway's OpenAI base URL, ending in /v1. */
  gatewayUrl: string;
  /** The tRPC API's URL. */
  apiUrl: string | null;
  temporalUiUrl: string | null;
  /** The Slack bot's HTTP receiver (no path), or null. */
  slackUrl: string | null;
  /** The local GitHub stand-in's REST base, or null (none runs): the research team scores with github-commits against it. */
  githubUrl?: string | null;
  /** Served models, in order: the second one judges (the first when only one is served). */
  models: string[];
}

export interface SeedResult {
  seeded: boolean;
  devFile: DevFile;
  path: string;
}

export async function readDevFile(dataDir: string): Promise<DevFile | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, devFileName), 'utf8')) as DevFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes dev.json owner-only, replacing it atomically: a crash leaves the old file or the new one. */
async function writeDevFile(dataDir: string, file: DevFile): Promise<string> {
  const path = join(dataDir, devFileName);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}

async function ensureOrg(db: Db): Promise<Org> {
  return (
    (await findOrgBySlug(db, { slug: demoOrgSlug })) ??
    createOrg(db, { actor, input: { slug: demoOrgSlug, name: 'Demo', timeZone: 'UTC' } })
  );
}

async function ensureTeam(db: Db, org: Org, slug: string, name: string): Promise<Team> {
  return (
    (await findTeamBySlug(db, { orgId: org.id, slug })) ??
    createTeam(db, { actor, input: { orgId: org.id, slug, name } })
  );
}

/** The llm-judge as the demo seeds it: one sample, its verdict as JSON. */
const judgeScoring = (judgeModel: string) => [
  { pluginId: 'llm-judge', weight: 1, config: { judgeModel, samples: 1, useJsonSchema: true } },
];

/** The team whose scoring follows the local GitHub: commit linkage while the stand-in runs, else the judge. */
export const demoGithubTeam = 'research';

/** JSON with sorted keys: jsonb gives keys back in its own order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

/**
 * The research team scores with github-commits against the stand-in (its URL changes with the
 * port at each start) or, without one, with the judge. Only a config the seed itself published is
 * replaced, and only when it differs: a lead's own choice is never overwritten, and a restart on the
 * same URL publishes nothing.
 */
async function ensureGithubTeamScoring(db: Db, org: Org, githubUrl: string | null, judgeModel: string | undefined) {
  const team = await findTeamBySlug(db, { orgId: org.id, slug: demoGithubTeam });
  if (team === undefined) return;
  const wanted =
    githubUrl !== null ? demoGithubScoring(githubUrl) : judgeModel === undefined ? undefined : judgeScoring(judgeModel);
  if (wanted === undefined) return;
  const current = await currentScoringConfig(db, { teamId: team.id });
  if (current !== undefined && (current.createdBy !== actor || canonical(current.plugins) === canonical(wanted)))
    return;
  await publishScoringConfig(db, { teamId: team.id, plugins: wanted, actor });
}

/** Teams' scoring (the llm-judge) and settlement policies, and the org's bounds; only what is missing. */
async function ensureSettlementConfig(db: Db, org: Org, teams: Team[], judgeModel: string): Promise<void> {
  if (!(await getSettlementBounds(db, { orgId: org.id })).explicit)
    await setSettlementBounds(db, { orgId: org.id, body: demoBounds, actor });
  for (const team of teams) {
    if ((await currentScoringConfig(db, { teamId: team.id })) === undefined) {
      await publishScoringConfig(db, {
        teamId: team.id,
        plugins: judgeScoring(judgeModel),
        actor,
      });
    }
    if ((await currentSettlementPolicy(db, { teamId: team.id })) === undefined) {
      await publishSettlementPolicy(db, { teamId: team.id, body: demoPolicy, actor });
    }
  }
}

/** Priority tokens the demo org's reward pool starts with: rewards for excellent work come out of it. */
export const demoRewardPool = '500';

async function fundRewardPool(ledger: Ledger, db: Db, org: Org): Promise<void> {
  const pool = await ledger.ensureAccount({
    ownerType: 'org',
    ownerId: org.id,
    orgId: org.id,
    currency: 'priority',
    purpose: 'reward_pool',
  });
  await ledger.grant({
    id: `demo-reward-pool-${org.id}`,
    to: pool.id,
    currency: 'priority',
    amount: parseAmount(demoRewardPool, currencyByCode('priority')),
    actor,
    reason: 'demo seed reward pool',
    orgId: org.id,
  });
}

/** Innovation tokens the demo org's judge wallet is funded with each month: the llm judge's calls are paid from it. */
export const demoJudgeBudget = '100';

/** The demo org pays for its own judging: a monthly judge budget, this month's funded at once (once). */
async function fundJudgeBudget(ledger: Ledger, db: Db, org: Org): Promise<void> {
  await applyJudgeBudget(db, ledger, {
    orgId: org.id,
    currency: 'innovation',
    amount: parseAmount(demoJudgeBudget, currencyByCode('innovation')),
    actor,
  });
}

/** Grants with ids derived from the user: a rerun after a crash mid-seed moves nothing twice. */
async function grantDemoTokens(ledger: Ledger, db: Db, org: Org, userId: string, user: DemoUser): Promise<void> {
  const grants = [
    ['innovation', user.innovation],
    ['priority', user.priority],
  ] as const;
  for (const [code, amount] of grants) {
    if (amount === undefined) continue;
    const currency = currencyByCode(code);
    const wallet = await ledger.ensureAccount({
      ownerType: 'user',
      ownerId: userId,
      orgId: org.id,
      currency: code,
      purpose: 'wallet',
    });
    await ledger.grant({
      id: `demo-welcome-${code}-${userId}`,
      to: wallet.id,
      currency: code,
      amount: parseAmount(amount, currency),
      actor,
      reason: 'demo seed welcome grant',
      orgId: org.id,
    });
  }
}

/** A monthly cap per demo team, notifying at 80%: Eve, the ESG officer, can change them and decide raises. */
export const demoTeamCapGrams = 200;

async function seedCarbonCaps(ledger: Ledger, db: Db, org: Org, teams: Team[]): Promise<void> {
  for (const team of teams) {
    if ((await currentCarbonCap(db, { scope: 'team', scopeId: team.id })) !== undefined) continue;
    await setCarbonCap(
      { db, ledger },
      {
        orgId: org.id,
        timeZone: org.timeZone,
        actor,
        input: { scope: 'team', teamId: team.id, period: 'month', hardGrams: demoTeamCapGrams, softPercent: 80 },
      },
    );
  }
}

async function withIds(
  db: Db,
  org: Org,
  user: Pick<DevFile['users'][number], 'email' | 'roles' | 'apiKey'> & Partial<DevFile['users'][number]>,
): Promise<DevFile['users'][number]> {
  if (user.userId !== undefined && user.teamId !== undefined && user.team !== undefined)
    return user as DevFile['users'][number];
  const found = await findUserByEmail(db, { orgId: org.id, email: user.email });
  const team =
    found?.teamId === null || found?.teamId === undefined
      ? undefined
      : await findTeamInOrg(db, { teamId: found.teamId, orgId: org.id });
  return {
    ...user,
    userId: found?.id ?? '',
    teamId: found?.teamId ?? null,
    team: team?.slug ?? null,
  };
}

/**
 * Seeds the demo org on first start and writes dev.json with each user's key (shown only at
 * creation). When the org and dev.json both exist, nothing is seeded: only the URLs and models
 * in dev.json are refreshed (ports may change between starts) and its keys are kept.
 */
export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const { db, ledger } = options;
  const urls = {
    gatewayUrl: options.gatewayUrl,
    apiUrl: options.apiUrl,
    temporalUiUrl: options.temporalUiUrl,
    slackUrl: options.slackUrl,
    githubUrl: options.githubUrl ?? null,
    models: options.models,
  };
  const judgeModel = options.models[1] ?? options.models[0];
  const existing = await readDevFile(options.dataDir);
  const existingOrg = await findOrgBySlug(db, { slug: demoOrgSlug });
  if (existing !== undefined && existingOrg !== undefined) {
    // A dev.json of an older version lacks the ids: they are filled in from the users table.
    const users = await Promise.all(existing.users.map((user) => withIds(db, existingOrg, user)));
    await ensureGithubTeamScoring(db, existingOrg, urls.githubUrl, judgeModel);
    const devFile = { ...existing, ...urls, users };
    return { seeded: false, devFile, path: await writeDevFile(options.dataDir, devFile) };
  }
  if (judgeModel === undefined) throw new Error('The demo seed needs at least one served model for the judge.');
  const org = await ensureOrg(db);
  // On a machine of its own, the demo admin runs the platform too (clusters, the default price list).
  const [platform] = await db.select({ id: orgs.id }).from(orgs).where(eq(orgs.platform, true)).limit(1);
  if (platform === undefined) await setPlatformOrg(db, { orgId: org.id, actor });
  const teams = new Map<string, Team>();
  for (const team of demoTeams) teams.set(team.slug, await ensureTeam(db, org, team.slug, team.name));
  await ensureGithubTeamScoring(db, org, urls.githubUrl, judgeModel);
  await ensureSettlementConfig(db, org, [...teams.values()], judgeModel);
  await fundRewardPool(ledger, db, org);
  await fundJudgeBudget(ledger, db, org);
  await seedCarbonCaps(ledger, db, org, [...teams.values()]);
  const users: DevFile['users'] = [];
  for (const demo of demoUsers) {
    const teamId = demo.team === null ? null : (teams.get(demo.team)?.id ?? null);
    const user =
      (await findUserByEmail(db, { orgId: org.id, email: demo.email })) ??
      (await createUser(db, {
        actor,
        input: { orgId: org.id, teamId, email: demo.email, displayName: demo.name, roles: demo.roles },
      }));
    await grantDemoTokens(ledger, db, org, user.id, demo);
    // One key per demo user for both doors: the gateway (inference) and the typed API.
    const { secret } = await createApiKey(db, {
      pepper: options.keyPepper,
      orgId: org.id,
      userId: user.id,
      name: 'demo key',
      scopes: ['inference', 'api'],
      actor,
    });
    users.push({
      email: user.email,
      userId: user.id,
      teamId: user.teamId,
      team: demo.team,
      roles: user.roles,
      apiKey: secret,
    });
  }
  const devFile: DevFile = { ...urls, users };
  return { seeded: true, devFile, path: await writeDevFile(options.dataDir, devFile) };
}
