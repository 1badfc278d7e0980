import { usageRecords } from '@tokenwise/db/schema';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { UsageError } from '../usage-error';
import { runRemoteCommand } from './control-client';
import { startControlServer, type ControlServer } from './control-server';

const priceList = {
  version: '2026-03-01',
  models: {
    'llama-3-8b': {
      currency: 'innovation',
      cInputPerMTok: '150',
      cOutputPerMTok: '600',
      weightBillions: '8.03',
      cModelPerBParam: '2',
      tiers: {
        low: { fee: '0', currency: 'innovation' },
        normal: { fee: '0', currency: 'innovation' },
        high: { fee: '50', currency: 'innovation' },
        urgent: { fee: '1000', currency: 'priority' },
      },
    },
    'qwen-72b': {
      currency: 'priority',
      cInputPerMTok: '900',
      cOutputPerMTok: '2700',
      weightBillions: '72',
      cModelPerBParam: '5',
      tiers: {
        low: { fee: '0', currency: 'priority' },
        normal: { fee: '0', currency: 'priority' },
        high: { fee: '10', currency: 'priority' },
        urgent: { fee: '100', currency: 'priority' },
      },
    },
  },
};

describe('tokenwise prices, usage and reconcile through the platform control endpoint', () => {
  let dir: string;
  let services: Services;
  let control: ControlServer;
  const run = (command: string, options: Record<string, string | boolean>) =>
    runRemoteCommand(control, command, options, 'cli:tester');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-prices-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    control = await startControlServer(services);
    await run('org create', { slug: 'acme', name: 'Acme' });
    await run('user create', { org: 'acme', email: 'alice@acme.test', name: 'Alice' });
  });
  afterAll(async () => {
    await control?.close();
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('says so when no price list is published yet', async () => {
    await expect(run('prices show', {})).rejects.toThrow(
      /No price list is published yet: publish one with `tokenwise prices publish --file prices\.json`/,
    );
  });

  it('publishes a price list from a file as the next version, and shows the newest', async () => {
    const file = join(dir, 'prices.json');
    await writeFile(file, JSON.stringify(priceList));
    const first = await run('prices publish', { file });
    expect(first.text).toBe(
      `Published price list version 1 ("2026-03-01") from ${file}: models llama-3-8b, qwen-72b. Gateways price new requests with it within seconds.`,
    );
    expect(first.data).toEqual({ version: 1, label: '2026-03-01', models: ['llama-3-8b', 'qwen-72b'] });

    await writeFile(file, JSON.stringify({ ...priceList, version: '2026-04-01' }));
    expect((await run('prices publish', { file })).data).toMatchObject({ version: 2, label: '2026-04-01' });

    const shown = await run('prices show', {});
    expect(shown.text).toMatch(/^Price list version 2 \("2026-04-01"\), carbon not priced:\n/);
    expect(shown.text).toContain(
      'llama-3-8b: innovation, per million tokens in 150 out 600 (minor units), weight 8.03 B params at 2 per B; fees low 0 innovation, normal 0 innovation, high 0.00005 innovation, urgent 0.001 priority',
    );
    expect(shown.text).toContain('qwen-72b: priority, ');
    expect(shown.data).toMatchObject({
      version: 2,
      list: { version: '2026-04-01', models: { 'llama-3-8b': { cInputPerMTok: 150n, weightMilliBillions: 8030n } } },
    });
  });

  it('refuses an invalid price list naming the bad field, and a missing or non-JSON file, storing nothing', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        ...priceList,
        version: '2026-05-01',
        models: { 'llama-3-8b': { ...priceList.models['llama-3-8b'], cInputPerMTok: '-1' } },
      }),
    );
    await expect(run('prices publish', { file: bad })).rejects.toThrow(
      /Invalid price list: models\.llama-3-8b\.cInputPerMTok: must be a non-negative integer/,
    );
    await writeFile(bad, '{ not json');
    await expect(run('prices publish', { file: bad })).rejects.toThrow(/bad\.json is not valid JSON/);
    await expect(run('prices publish', { file: join(dir, 'missing.json') })).rejects.toThrow(
      /Cannot read the price list file .*missing\.json/,
    );
    await expect(run('prices publish', {})).rejects.toThrow(new UsageError('--file is required.'));
    expect((await run('prices show', {})).data).toMatchObject({ version: 2 });
  });

  it('lists no usage for an org or user without requests, and bounds the page', async () => {
    const org = await run('usage', { org: 'acme' });
    expect(org).toMatchObject({ text: 'Latest usage of org acme, newest first:\n  (no usage yet)', data: [] });
    const user = await run('usage', { org: 'acme', user: 'alice@acme.test', limit: '100' });
    expect(user.text).toBe('Latest usage of alice@acme.test (acme), newest first:\n  (no usage yet)');
    await expect(run('usage', { org: 'acme', limit: '101' })).rejects.toThrow(
      '--limit must be a whole number from 1 to 100, got "101".',
    );
    await expect(run('usage', { org: 'acme', limit: '0' })).rejects.toThrow(
      /--limit must be a whole number from 1 to 100/,
    );
    await expect(run('usage', { org: 'acme', user: 'bob@acme.test' })).rejects.toThrow(
      'No user bob@acme.test in org acme.',
    );
    await expect(run('usage', {})).rejects.toThrow(new UsageError('--org is required.'));
  });

  it('lists usage rows newest first with cost, fee and gCO2e, filtered by user', async () => {
    const carolUser = (await run('user create', { org: 'acme', email: 'carol@acme.test', name: 'Carol' })).data as {
      id: string;
      orgId: string;
    };
    const daveUser = (await run('user create', { org: 'acme', email: 'dave@acme.test', name: 'Dave' })).data as {
      id: string;
    };
    const row = (requestId: string, userId: string, createdAt: Date) => ({
      requestId,
      orgId: carolUser.orgId,
      userId,
      keyId: 'aaaaaaaaaaaa',
      model: 'llama-3-8b',
      cluster: 'c',
      replica: 'r',
      tier: 'urgent',
      promptTokens: 12,
      completionTokens: 34,
      currency: 'innovation',
      cost: 1_500n,
      feeCurrency: 'priority',
      fee: 1_000n,
      priceListVersion: 2,
      latencyMs: 5,
      co2eMicrograms: 1_234_500n,
      operationalCo2eMicrograms: 1_000_000n,
      embodiedCo2eMicrograms: 234_500n,
      marketCo2eMicrograms: requestId === 'req_new' ? 150_000n : null,
      carbonAssumed: requestId === 'req_old',
      energyMicroWh: 1n,
      system: false,
      outcome: 'completed',
      createdAt,
    });
    await services.database.db
      .insert(usageRecords)
      .values([
        row('req_old', carolUser.id, new Date('2026-03-01T10:00:00Z')),
        row('req_new', carolUser.id, new Date('2026-03-01T11:00:00Z')),
        row('req_dave', daveUser.id, new Date('2026-03-01T10:30:00Z')),
      ]);
    const carol = await run('usage', { org: 'acme', user: 'carol@acme.test' });
    expect(carol.text).toBe(
      [
        'Latest usage of carol@acme.test (acme), newest first:',
        '  2026-03-01T11:00:00.000Z  req_new  llama-3-8b  urgent  12 in / 34 out  0.0015 innovation + fee 0.001 priority  1.2345 gCO2e (1 operational + 0.2345 embodied; market 0.15)  completed',
        '  2026-03-01T10:00:00.000Z  req_old  llama-3-8b  urgent  12 in / 34 out  0.0015 innovation + fee 0.001 priority  1.2345 gCO2e (1 operational + 0.2345 embodied) ASSUMED (no model profile)  completed',
      ].join('\n'),
    );
    const org = await run('usage', { org: 'acme', limit: '2' });
    expect((org.data as { requestId: string }[]).map((usage) => usage.requestId)).toEqual(['req_new', 'req_dave']);
  });

  it('reconciles with nothing to do, and refuses a cutoff that could touch a running request', async () => {
    const result = await run('reconcile', {});
    expect(result.text).toMatch(
      /^Closed 0 abandoned request\(s\) admitted before \S+ \(21 min ago\), voiding their holds\nReleased 0 lapsed hold\(s\)\.$/,
    );
    expect(result.data).toMatchObject({ closedRequests: 0, closed: [], expiredHolds: 0 });
    expect((await run('reconcile', { 'older-than-minutes': '60' })).text).toMatch(/\(60 min ago\)/);
    await expect(run('reconcile', { 'older-than-minutes': '10' })).rejects.toThrow(
      /must exceed the gateway's request timeout \(10 min\)/,
    );
    await expect(run('reconcile', { 'older-than-minutes': 'soon' })).rejects.toThrow(
      /--older-than-minutes must be a whole number/,
    );
    expect((await run('ledger verify', {})).text).toMatch(/The ledger is intact/);
  });
});
