import { listAuditForEntity } from '@tokenwise/db';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { UsageError } from '../usage-error';
import { runRemoteCommand } from './control-client';
import { startControlServer, type ControlServer } from './control-server';

const judgeConfig = {
  judgeModel: 'sim-llama-8b',
  choices: ['A', 'B', 'C'],
  choiceScores: { A: 1, B: 0.5, C: 0 },
  evalType: 'classify',
  samples: 1,
};

describe('tokenwise scoring, policy and bounds through the platform control endpoint', () => {
  let dir: string;
  let services: Services;
  let control: ControlServer;
  let teamId: string;
  const run = (command: string, options: Record<string, string | boolean>) =>
    runRemoteCommand(control, command, options, 'cli:lead');
  const file = async (name: string, body: unknown) => {
    const path = join(dir, name);
    await writeFile(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-settlement-config-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    control = await startControlServer(services);
    await run('org create', { slug: 'acme', name: 'Acme' });
    teamId = ((await run('team create', { org: 'acme', slug: 'eng', name: 'Engineering' })).data as { id: string }).id;
  });
  afterAll(async () => {
    await control?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('says how to set a scoring configuration when the team has none, and names a missing team', async () => {
    await expect(run('scoring show', { org: 'acme', team: 'eng' })).rejects.toThrow(
      'No scoring configuration for team eng (acme) yet: set one with `tokenwise scoring set --org acme --team eng --file scoring.json`.',
    );
    await expect(run('scoring show', { org: 'acme', team: 'ops' })).rejects.toThrow('No team ops in org acme.');
    await expect(run('scoring show', { org: 'acme' })).rejects.toThrow(new UsageError('--team is required.'));
  });

  it('sets a scoring configuration with the llm-judge config checked by its schema, and shows it', async () => {
    const path = await file('scoring.json', [{ pluginId: 'llm-judge', weight: 2, config: judgeConfig }]);
    const set = await run('scoring set', { org: 'acme', team: 'eng', file: path });
    const [heading, line, footer] = set.text.split('\n');
    expect([heading, footer]).toEqual([
      `Published scoring configuration version 1 for team eng (acme) from ${path}:`,
      'Requests settled from now on are scored with it.',
    ]);
    // jsonb keeps its own key order, so the config line is compared as JSON.
    expect(line).toMatch(/^ {2}llm-judge {2}weight 2 {2}config \{/);
    expect(JSON.parse(line?.replace(/^.*? config /, '') ?? '')).toEqual(judgeConfig);
    expect(set.data).toMatchObject({
      teamId,
      version: 1,
      createdBy: 'cli:lead',
      plugins: [{ pluginId: 'llm-judge', weight: 2, config: judgeConfig }],
    });

    await file('scoring.json', []);
    expect((await run('scoring set', { org: 'acme', team: 'eng', file: path })).text).toContain(
      'version 2 for team eng (acme)',
    );
    const shown = await run('scoring show', { org: 'acme', team: 'eng' });
    expect(shown.text).toMatch(
      /^Scoring configuration version 2 of team eng \(acme\), by cli:lead at \S+:\n {2}\(no plugins: requests of this team are not scored\)$/,
    );
    expect(
      await listAuditForEntity(services.database.db, { entityType: 'scoring_config', entityId: teamId }),
    ).toHaveLength(2);
  });

  it('refuses an llm-judge config that its schema refuses, naming the plugin and the field, storing nothing', async () => {
    const bad = await file('bad-scoring.json', [
      { pluginId: 'llm-judge', weight: 1, config: { ...judgeConfig, choiceScores: { A: 1, B: 0.5 } } },
    ]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      'Invalid config of plugin "llm-judge": choiceScores.C: missing a score for choice "C".',
    );
    await file('bad-scoring.json', [
      { pluginId: 'llm-judge', weight: 1, config: { ...judgeConfig, choiceScores: { A: 1, B: 'high', C: 0 } } },
    ]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /Invalid config of plugin "llm-judge": choiceScores\.B: /,
    );
    await file('bad-scoring.json', [{ pluginId: 'llm-judge', weight: 1, config: {} }]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /Invalid config of plugin "llm-judge": judgeModel: /,
    );
    expect(((await run('scoring show', { org: 'acme', team: 'eng' })).data as { version: number }).version).toBe(2);
  });

  it('refuses an unknown plugin, bad weights, duplicates and too many plugins, naming the field', async () => {
    const bad = await file('bad-scoring.json', [{ pluginId: 'code-review', weight: 1, config: {} }]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /^Unknown plugin "code-review" at 0\.pluginId: loaded plugins are .*llm-judge/,
    );
    await file('bad-scoring.json', [{ pluginId: 'llm-judge', weight: 0, config: judgeConfig }]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /0\.weight: must be greater than 0/,
    );
    await file('bad-scoring.json', [{ pluginId: 'llm-judge', weight: 101, config: judgeConfig }]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /0\.weight: must be at most 100/,
    );
    await file('bad-scoring.json', [
      { pluginId: 'llm-judge', weight: 1, config: judgeConfig },
      { pluginId: 'llm-judge', weight: 1, config: judgeConfig },
    ]);
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /1\.pluginId: "llm-judge" is listed twice/,
    );
    await file(
      'bad-scoring.json',
      Array.from({ length: 17 }, (_, index) => ({ pluginId: `p-${index}`, weight: 1 })),
    );
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(/at most 16 plugins/);
    await file('bad-scoring.json', { pluginId: 'llm-judge' });
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /Invalid scoring configuration \(a JSON array of \{ pluginId, weight, config \}\)/,
    );
    await file('bad-scoring.json', '[{');
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /bad-scoring\.json is not valid JSON/,
    );
    await expect(run('scoring set', { org: 'acme', team: 'eng', file: join(dir, 'missing.json') })).rejects.toThrow(
      /Cannot read the scoring configuration file .*missing\.json/,
    );
    await expect(run('scoring set', { org: 'acme', team: 'eng' })).rejects.toThrow(
      new UsageError('--file is required.'),
    );
    expect(((await run('scoring show', { org: 'acme', team: 'eng' })).data as { version: number }).version).toBe(2);
  });

  it('shows the default bounds until an admin sets them, then the set ones; refuses bad bounds naming the field', async () => {
    expect((await run('bounds show', { org: 'acme' })).text).toBe(
      'Settlement bounds of org acme (never set: the defaults apply): largest refund share 5000 bps, largest reward per request 0 minor units, at most 0 minor units of rewards per user and month.',
    );
    const path = await file('bounds.json', { maxRefundShareBps: 6_000, maxRewardPerRequest: '200' });
    const set = await run('bounds set', { org: 'acme', file: path });
    expect(set.text).toBe(
      `Set the settlement bounds of org acme from ${path}: largest refund share 6000 bps, largest reward per request 200 minor units, at most 4000 minor units of rewards per user and month. No team policy settles beyond them.`,
    );
    expect((await run('bounds show', { org: 'acme' })).text).toMatch(
      /^Settlement bounds of org acme \(set by cli:lead at \S+\): largest refund share 6000 bps, largest reward per request 200 minor units, at most 4000 minor units of rewards per user and month\.$/,
    );
    const bad = await file('bad-bounds.json', { maxRefundShareBps: 10_001 });
    await expect(run('bounds set', { org: 'acme', file: bad })).rejects.toThrow(
      /Invalid settlement bounds: maxRefundShareBps: /,
    );
    await expect(run('bounds set', { org: 'nope', file: path })).rejects.toThrow(/No org "nope"/);
    expect((await run('bounds show', { org: 'acme' })).data).toMatchObject({
      bounds: { maxRefundShareBps: 6_000, maxRewardPerRequest: 200n },
      explicit: true,
    });
  });

  it('sets a policy, shows it with its version, and warns about each bound it exceeds', async () => {
    await expect(run('policy show', { org: 'acme', team: 'eng' })).rejects.toThrow(
      'No settlement policy for team eng (acme) yet: set one with `tokenwise policy set --org acme --team eng --file policy.json`.',
    );
    const path = await file('policy.json', {
      refunds: [
        { minScore: 0.8, shareBps: 3_000 },
        { minScore: 0.5, shareBps: 1_000 },
      ],
      minConfidence: 0.6,
    });
    const set = await run('policy set', { org: 'acme', team: 'eng', file: path });
    expect(set.text).toBe(
      `Published settlement policy version 1 for team eng (acme) from ${path}:\n  refund 1000 bps of the cost at score >= 0.5\n  refund 3000 bps of the cost at score >= 0.8\n  no reward\n  nothing below confidence 0.6\nRequests admitted from now on settle under it.`,
    );
    expect(set.data).toMatchObject({ version: 1, warnings: [] });

    await file('policy.json', {
      refunds: [{ minScore: 0.9, shareBps: 8_000 }],
      reward: { minScore: 0.95, amount: '500' },
    });
    const greedy = await run('policy set', { org: 'acme', team: 'eng', file: path });
    const warnings = [
      "refunds.0.shareBps 8000 exceeds the org's maxRefundShareBps 6000: settlements refund at most 6000 bps",
      "reward.amount 500 exceeds the org's maxRewardPerRequest 200: settlements reward at most 200 minor units",
    ];
    expect(greedy.data).toMatchObject({ version: 2, warnings });
    expect(greedy.text).toContain(
      `Requests admitted from now on settle under it.\nBeyond the org's bounds (stored; settlements cap it):\n  ${warnings.join('\n  ')}`,
    );
    const shown = await run('policy show', { org: 'acme', team: 'eng' });
    expect(shown.text).toMatch(
      /^Settlement policy version 2 of team eng \(acme\), by cli:lead at \S+:\n {2}refund 8000 bps of the cost at score >= 0\.9\n {2}reward 0\.0005 priority at score >= 0\.95, at most 1000 bps of the cost\n/,
    );
    expect(shown.text).toContain(warnings[1]);

    // Raising the bounds clears the warnings that `policy show` reports.
    await run('bounds set', {
      org: 'acme',
      file: await file('bounds.json', { maxRefundShareBps: 8_000, maxRewardPerRequest: '500' }),
    });
    expect((await run('policy show', { org: 'acme', team: 'eng' })).data).toMatchObject({ version: 2, warnings: [] });
  });

  it('refuses a bad policy naming the field, storing nothing', async () => {
    const bad = await file('bad-policy.json', { refunds: [{ minScore: 0.5, shareBps: 2.5 }] });
    await expect(run('policy set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /Invalid settlement policy: refunds\.0\.shareBps: /,
    );
    await file('bad-policy.json', { minConfidence: 2 });
    await expect(run('policy set', { org: 'acme', team: 'eng', file: bad })).rejects.toThrow(
      /Invalid settlement policy: minConfidence: /,
    );
    expect(((await run('policy show', { org: 'acme', team: 'eng' })).data as { version: number }).version).toBe(2);
  });
});
