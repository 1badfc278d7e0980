import { githubConfigFromEnv, pollGithubLink, startGithubLink } from '@tokenwise/control';
import {
  currentScoringConfig,
  findGithubAccount,
  findOrgBySlug,
  findTeamBySlug,
  publishScoringConfig,
} from '@tokenwise/db';
import { githubLinkAttempts } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { startDemoGithub, type DemoGithub } from '../local/demo-github';
import { seedDemo, type SeedOptions } from '../local/demo-seed';
import { openServices, type Services } from '../services';
import { runRemoteCommand } from './control-client';
import { startControlServer, type ControlServer } from './control-server';

describe('the local GitHub of npm start: the research team follows it, and the github commands', () => {
  let dir: string;
  let services: Services;
  let demo: DemoGithub;
  let withStandIn: ControlServer;
  let withoutStandIn: ControlServer;
  let options: SeedOptions;
  const run = (control: ControlServer, command: string, commandOptions: Record<string, string>) =>
    runRemoteCommand(control, command, commandOptions, 'cli:tester');
  const researchScoring = async () => {
    const org = await findOrgBySlug(services.database.db, { slug: 'demo' });
    const team = await findTeamBySlug(services.database.db, { orgId: org?.id ?? '', slug: 'research' });
    return {
      teamId: team?.id ?? '',
      config: await currentScoringConfig(services.database.db, { teamId: team?.id ?? '' }),
    };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-gh-commands-'));
    [services, demo] = await Promise.all([
      openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }, dir)),
      startDemoGithub('demo'),
    ]);
    [withStandIn, withoutStandIn] = await Promise.all([
      startControlServer({ ...services, demoGithub: demo }),
      startControlServer(services),
    ]);
    options = {
      db: services.database.db,
      ledger: services.ledger,
      keyPepper: services.keyPepper,
      dataDir: dir,
      apiUrl: 'http://127.0.0.1:4001',
      gatewayUrl: 'http://127.0.0.1:4000/v1',
      temporalUiUrl: null,
      slackUrl: null,
      githubUrl: demo.url,
      models: ['sim/small', 'sim/judge'],
    };
  });
  afterAll(async () => {
    await withStandIn?.close();
    await withoutStandIn?.close();
    await demo?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the demo org its own token and the API the webhook secret and an OAuth app, all generated per start', () => {
    expect(Object.keys(demo.env).sort()).toEqual([
      'GITHUB_OAUTH_CLIENT_ID',
      'GITHUB_WEBHOOK_SECRET',
      'TOKENWISE_GITHUB_API_URL',
      'TOKENWISE_GITHUB_URL',
      'TOKENWISE_SECRET_DEMO__GITHUB_TOKEN',
    ]);
    expect(demo.env.GITHUB_WEBHOOK_SECRET).toBe(demo.webhookSecret);
    expect(demo.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(githubConfigFromEnv({ ...demo.env })).toMatchObject({
      oauthClientId: expect.stringMatching(/^Iv1\.demo[0-9a-f]{16}$/),
      webUrl: demo.url,
      apiUrl: demo.url,
    });
  });

  it('lets a user prove a login through the stand-in: the code entered on its page as lin-gh links lin-gh', async () => {
    const { devFile } = await seedDemo(options);
    const lin = devFile.users.find((user) => user.email === 'lin@demo.test');
    if (lin === undefined) throw new Error('no lin in the demo seed');
    const org = await findOrgBySlug(services.database.db, { slug: 'demo' });
    const github = githubConfigFromEnv({ ...demo.env });
    const who = {
      config: { clientId: github.oauthClientId ?? '', webUrl: github.webUrl, apiUrl: github.apiUrl },
      orgId: org?.id ?? '',
      userId: lin.userId,
    };
    const started = await startGithubLink(services.database.db, who);
    expect(started.verificationUri).toBe(`${demo.url}/login/device`);
    expect(await pollGithubLink(services.database.db, { ...who, attemptId: started.attemptId })).toMatchObject({
      state: 'pending',
    });
    // What the person does in the browser: the page's form, posted.
    const approved = await fetch(started.verificationUri, {
      method: 'POST',
      body: new URLSearchParams({ user_code: started.userCode, login: 'lin-gh', decision: 'approve' }),
    });
    expect(approved.status).toBe(200);
    // GitHub's interval has passed on both sides (the attempt may be polled again, and GitHub agrees).
    await services.database.db
      .update(githubLinkAttempts)
      .set({ nextPollAt: new Date(Date.now() - 1_000) })
      .where(eq(githubLinkAttempts.id, started.attemptId));
    for (const entry of demo.github.state.deviceCodes.values()) entry.lastPollMs = 0;
    expect(await pollGithubLink(services.database.db, { ...who, attemptId: started.attemptId })).toMatchObject({
      state: 'linked',
      login: 'lin-gh',
    });
    expect(await findGithubAccount(services.database.db, { orgId: who.orgId, userId: lin.userId })).toMatchObject({
      login: 'lin-gh',
      provenVia: 'device_flow',
    });
  });

  it('points research at the stand-in, moves it with the port, publishes nothing on the same URL, and leaves a lead’s config alone', async () => {
    const first = await seedDemo(options);
    expect(first.devFile.githubUrl).toBe(demo.url);
    const seeded = await researchScoring();
    expect(seeded.config?.plugins).toEqual([
      {
        pluginId: 'github-commits',
        weight: 1,
        config: { repositories: ['tokenwise-demo/app'], baseUrl: demo.url, tokenSecret: 'GITHUB_TOKEN' },
      },
    ]);
    // A restart on the same port publishes nothing; on another port the config follows it.
    await seedDemo(options);
    expect((await researchScoring()).config?.version).toBe(seeded.config?.version);
    const moved = await seedDemo({ ...options, githubUrl: 'http://127.0.0.1:9' });
    expect(moved).toMatchObject({ seeded: false, devFile: { githubUrl: 'http://127.0.0.1:9' } });
    const after = await researchScoring();
    expect(after.config?.version).toBe((seeded.config?.version ?? 0) + 1);
    expect(after.config?.plugins[0]?.config).toMatchObject({ baseUrl: 'http://127.0.0.1:9' });
    // Without a stand-in (GitHub configured), the team the seed set up goes back to the judge.
    await seedDemo({ ...options, githubUrl: null });
    expect((await researchScoring()).config?.plugins.map((plugin) => plugin.pluginId)).toEqual(['llm-judge']);
    // A lead's own choice is theirs: no restart overwrites it.
    const lead = [{ pluginId: 'llm-judge', weight: 2, config: { judgeModel: 'sim/small' } }];
    await publishScoringConfig(services.database.db, { teamId: after.teamId, plugins: lead, actor: 'user:lin' });
    await seedDemo(options);
    expect((await researchScoring()).config).toMatchObject({ createdBy: 'user:lin', plugins: lead });
  });

  it('links a login once per org, refusing a malformed login, an unknown user and a login another user holds', async () => {
    const linked = await run(withStandIn, 'github link', { org: 'demo', user: 'ray@demo.test', login: 'ray-gh' });
    expect(linked.text).toContain('Linked GitHub login ray-gh to ray@demo.test (demo)');
    await expect(
      run(withStandIn, 'github link', { org: 'demo', user: 'ray@demo.test', login: '-ray' }),
    ).rejects.toThrow(/--login must be a GitHub login/);
    await expect(
      run(withStandIn, 'github link', { org: 'demo', user: 'nobody@demo.test', login: 'nobody-gh' }),
    ).rejects.toThrow(/No user nobody@demo.test in org demo/);
    await expect(
      run(withStandIn, 'github link', { org: 'demo', user: 'ada@demo.test', login: 'RAY-GH' }),
    ).rejects.toThrow(/GitHub login RAY-GH is linked to another user of org demo/);
  });

  it('plays a merge only where the stand-in runs, and only for a request id', async () => {
    await expect(run(withoutStandIn, 'github play-merge', { request: 'req_1' })).rejects.toThrow(
      /runs without the local GitHub stand-in/,
    );
    await expect(run(withStandIn, 'github play-merge', { request: 'req 1; drop' })).rejects.toThrow(
      /--request must be a request id/,
    );
    await expect(run(withStandIn, 'github play-merge', { request: 'req_unknown' })).rejects.toThrow(
      /No request req_unknown/,
    );
  });
});
