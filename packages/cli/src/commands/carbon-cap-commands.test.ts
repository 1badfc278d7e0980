import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { adminCommands, type CommandOptions } from './admin/index';

describe('tokenwise carbon cap set|list and carbon status', () => {
  let dir: string;
  let services: Services | undefined;
  const run = (name: string, options: CommandOptions) => adminCommands[name]!(services!, options, 'cli:operator');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-carbon-caps-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    await run('org create', { slug: 'acme', name: 'Acme', 'time-zone': 'Asia/Tokyo' });
    await run('team create', { org: 'acme', slug: 'eng', name: 'Engineering' });
    await run('user create', { org: 'acme', email: 'alice@acme.test', name: 'Alice', team: 'eng' });
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sets, lists, shows and removes caps of the org, a team and a user', async () => {
    const team = await run('carbon cap set', { org: 'acme', team: 'eng', grams: '500', 'soft-percent': '80' });
    expect(team.text).toBe('Carbon cap of team eng (acme): 500 g CO2e per month, notify at 80% (version 1).');
    await run('carbon cap set', { org: 'acme', grams: '12000.5', period: 'quarter' });
    await run('carbon cap set', { org: 'acme', user: 'alice@acme.test', grams: '50' });
    const list = await run('carbon cap list', { org: 'acme' });
    expect(list.text.split('\n')).toHaveLength(3);
    expect(list.text).toContain('g per quarter');
    const status = await run('carbon status', { org: 'acme', team: 'eng' });
    expect(status.data).toMatchObject({ capGrams: 500, usedGrams: 0, heldGrams: 0, remainingGrams: 500 });
    expect(status.text).toMatch(/team eng \(acme\), \d{4}-\d\d: cap 500 g, 0 g used, 0 g held, 500 g left/);
    const removed = await run('carbon cap set', { org: 'acme', user: 'alice@acme.test', remove: true });
    expect(removed.text).toContain('no limit');
    expect((await run('carbon cap list', { org: 'acme' })).text.split('\n')).toHaveLength(2);
  });

  it('says what to fix: grams and remove together or neither, more than 6 decimals, an unknown period', async () => {
    await expect(run('carbon cap set', { org: 'acme' })).rejects.toThrow(/--grams <grams> to set the cap, or --remove/);
    await expect(run('carbon cap set', { org: 'acme', grams: '5', remove: true })).rejects.toThrow(/--remove/);
    await expect(run('carbon cap set', { org: 'acme', grams: '1.1234567' })).rejects.toThrow(/at most 6 decimals/);
    await expect(run('carbon cap set', { org: 'acme', grams: '5', period: 'year' })).rejects.toThrow(
      /--period must be month or quarter/,
    );
    await expect(run('carbon cap set', { org: 'acme', team: 'nope', grams: '5' })).rejects.toThrow(/No team nope/);
  });
});
