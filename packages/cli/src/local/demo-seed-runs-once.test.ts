import {
  currentCarbonCap,
  currentScoringConfig,
  currentSettlementPolicy,
  findOrgBySlug,
  findTeamBySlug,
  findUserByEmail,
  getSettlementBounds,
  isPlatformOrg,
} from '@tokenwise/db';
import { orgs, users } from '@tokenwise/db/schema';
import { findAccount } from '@tokenwise/ledger';
import { loadPlugins, parsePluginConfig } from '@tokenwise/plugin-sdk';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { demoTeamCapGrams, demoUsers, readDevFile, seedDemo, type SeedOptions } from './demo-seed';

describe('the demo seed of npm start', () => {
  let dir: string;
  let services: Services;
  let options: SeedOptions;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-demo-seed-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }, dir));
    options = {
      db: services.database.db,
      ledger: services.ledger,
      keyPepper: services.keyPepper,
      dataDir: dir,
      apiUrl: 'http://127.0.0.1:4001',
      gatewayUrl: 'http://127.0.0.1:4000/v1',
      temporalUiUrl: 'http://127.0.0.1:8233',
      slackUrl: null,
      models: ['sim/small', 'sim/judge'],
    };
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const balanceOf = async (email: string, currency: string) => {
    const org = await findOrgBySlug(services.database.db, { slug: 'demo' });
    const user = await findUserByEmail(services.database.db, { orgId: org?.id ?? '', email });
    const account = await findAccount(services.database.db, {
      ownerType: 'user',
      ownerId: user?.id ?? '',
      currency,
      purpose: 'wallet',
    });
    return account === undefined ? undefined : (await services.ledger.balance(account.id)).available;
  };

  it('seeds an org with a user per role, grants, judge scoring, policies and bounds, and writes dev.json owner-only', async () => {
    const first = await seedDemo(options);
    expect(first.seeded).toBe(true);
    expect(first.devFile).toMatchObject({
      gatewayUrl: 'http://127.0.0.1:4000/v1',
      apiUrl: 'http://127.0.0.1:4001',
      temporalUiUrl: 'http://127.0.0.1:8233',
      slackUrl: null,
      models: ['sim/small', 'sim/judge'],
    });
    expect(first.devFile.users.map((user) => user.email)).toEqual(demoUsers.map((user) => user.email));
    expect(new Set(first.devFile.users.flatMap((user) => user.roles))).toEqual(
      new Set(['employee', 'lead', 'esg', 'admin']),
    );
    for (const user of first.devFile.users) expect(user.apiKey).toMatch(/^tw_/);
    // Ids as the API uses them, so a newcomer (and the ESG officer, who has no team) can address them.
    const ada = first.devFile.users.find((user) => user.email === 'ada@demo.test');
    const eve = first.devFile.users.find((user) => user.email === 'eve@demo.test');
    expect(ada).toMatchObject({ team: 'platform', teamId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(ada?.userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(eve).toMatchObject({ team: null, teamId: null, roles: ['esg'] });
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);

    const db = services.database.db;
    const org = await findOrgBySlug(db, { slug: 'demo' });
    expect(org?.timeZone).toBe('UTC');
    // The demo admin runs this one-machine platform too (clusters, default prices).
    expect(await isPlatformOrg(db, { orgId: org?.id ?? '' })).toBe(true);
    for (const slug of ['platform', 'research']) {
      const team = await findTeamBySlug(db, { orgId: org?.id ?? '', slug });
      // A demo carbon cap per team, which Eve (ESG) can change.
      expect(await currentCarbonCap(db, { scope: 'team', scopeId: team?.id ?? '' })).toMatchObject({
        period: 'month',
        hardMicrograms: BigInt(demoTeamCapGrams) * 1_000_000n,
        softPercent: 80,
      });
      expect((await currentScoringConfig(db, { teamId: team?.id ?? '' }))?.plugins).toEqual([
        { pluginId: 'llm-judge', weight: 1, config: { judgeModel: 'sim/judge', samples: 1, useJsonSchema: true } },
      ]);
      expect((await currentSettlementPolicy(db, { teamId: team?.id ?? '' }))?.warnings).toEqual([]);
    }
    expect((await getSettlementBounds(db, { orgId: org?.id ?? '' })).explicit).toBe(true);
    // The worker refuses a config its plugin's schema refuses: the seeded one must pass it.
    const { loaded } = await loadPlugins({
      workspaceDir: fileURLToPath(new URL('../../../../', import.meta.url)),
      allowNpm: false,
    });
    const judge = loaded.find(({ plugin }) => plugin.id === 'llm-judge')?.plugin;
    expect(judge).toBeDefined();
    if (judge !== undefined)
      expect(parsePluginConfig(judge, { judgeModel: 'sim/judge', samples: 1, useJsonSchema: true })).toMatchObject({
        judgeModel: 'sim/judge',
        samples: 1,
      });
    expect(await balanceOf('ada@demo.test', 'innovation')).toBe(1_000_000_000n);
    expect(await balanceOf('lin@demo.test', 'priority')).toBe(50_000_000n);
    // Rewards for excellent work come out of the org's reward pool: the seed funds it.
    const pool = await findAccount(services.database.db, {
      ownerType: 'org',
      ownerId: org?.id ?? '',
      currency: 'priority',
      purpose: 'reward_pool',
    });
    expect(pool && (await services.ledger.balance(pool.id)).available).toBe(500_000_000n);
  });

  it('never seeds twice: a restart keeps the org, the users, the grants and the keys in dev.json', async () => {
    const before = await readDevFile(dir);
    const again = await seedDemo({ ...options, gatewayUrl: 'http://127.0.0.1:4111/v1' });
    expect(again.seeded).toBe(false);
    expect(again.devFile.users).toEqual(before?.users);
    expect(again.devFile.gatewayUrl).toBe('http://127.0.0.1:4111/v1');
    expect((await readDevFile(dir))?.users).toEqual(before?.users);
    const db = services.database.db;
    expect((await db.select({ slug: orgs.slug }).from(orgs)).filter((org) => org.slug === 'demo')).toHaveLength(1);
    expect(await db.select({ id: users.id }).from(users)).toHaveLength(demoUsers.length);
    expect(await balanceOf('ada@demo.test', 'innovation')).toBe(1_000_000_000n);
  });

  it('resumes a seed that crashed before dev.json was written, granting nothing twice', async () => {
    await rm(join(dir, 'dev.json'));
    const resumed = await seedDemo(options);
    expect(resumed.seeded).toBe(true);
    expect(resumed.devFile.users).toHaveLength(demoUsers.length);
    expect(await balanceOf('ada@demo.test', 'innovation')).toBe(1_000_000_000n);
    expect(await balanceOf('lin@demo.test', 'priority')).toBe(50_000_000n);
    expect(await services.database.db.select({ id: users.id }).from(users)).toHaveLength(demoUsers.length);
  });
});
