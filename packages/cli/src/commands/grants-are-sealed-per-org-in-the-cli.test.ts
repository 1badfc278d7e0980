import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { adminCommands, type CommandOptions } from './admin/index';

describe('tokenwise grant: each org issues from its own account, within the bounds the operator sets', () => {
  let dir: string;
  let services: Services;
  const run = async (command: string, options: CommandOptions) => {
    const handler = adminCommands[command];
    if (handler === undefined) throw new Error(`no command ${command}`);
    return handler(services, options, 'cli:operator');
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-grant-bounds-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    await run('org create', { slug: 'acme', name: 'Acme', 'time-zone': 'Europe/Berlin' });
    await run('org create', { slug: 'globex', name: 'Globex' });
    await run('user create', { org: 'acme', email: 'alice@acme.test', name: 'Alice' });
    await run('user create', { org: 'globex', email: 'gus@globex.test', name: 'Gus' });
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a grant beyond the bounds, naming the bound, the amount and what is left this month; the other org grants on', async () => {
    expect((await run('org grant-bounds', { org: 'acme' })).text).toMatch(
      /^Grant bounds of org acme \(platform defaults\): at most 1000000 innovation per grant, 100000000 innovation per month; \d{4}-\d{2} \(Europe\/Berlin\): 0 innovation issued/,
    );
    const set = await run('org set-grant-bounds', { org: 'acme', 'per-grant': '50', 'per-month': '80' });
    expect(set.text).toMatch(
      /^Grant bounds of org acme \(set by the operator\): at most 50 innovation per grant, 80 innovation per month; \d{4}-\d{2} \(Europe\/Berlin\): 0 innovation issued, 80 innovation left\.$/,
    );
    await expect(
      run('grant', { org: 'acme', user: 'alice@acme.test', amount: '50.5', reason: 'welcome' }),
    ).rejects.toThrow(/grantAmountMax of 50 innovation per grant/);
    await run('grant', { org: 'acme', user: 'alice@acme.test', amount: '50', reason: 'welcome' });
    await expect(run('grant', { org: 'acme', user: 'alice@acme.test', amount: '40', reason: 'more' })).rejects.toThrow(
      /A grant of 40 innovation exceeds org acme's bound monthlyIssuanceMax of 80 innovation per month: 30 innovation is left for \d{4}-\d{2} \(Europe\/Berlin\)/,
    );
    await expect(
      run('grant', { org: 'globex', user: 'gus@globex.test', amount: '500', reason: 'welcome' }),
    ).resolves.toMatchObject({ text: expect.stringMatching(/^Granted 500 innovation to gus@globex\.test/) });
    expect((await run('org grant-bounds', { org: 'acme' })).text).toMatch(
      /50 innovation issued, 30 innovation left\.$/,
    );
  });

  it("takes --id as the org's own: the same id in another org is another grant, and history shows the id given", async () => {
    await run('grant', { org: 'acme', user: 'alice@acme.test', amount: '1', reason: 'welcome', id: 'welcome-2027' });
    const globex = await run('grant', {
      org: 'globex',
      user: 'gus@globex.test',
      amount: '2',
      reason: 'welcome',
      id: 'welcome-2027',
    });
    expect(globex.text).toMatch(
      /^Granted 2 innovation to gus@globex\.test \(globex\)\. Grant id welcome-2027\. Available: 502 innovation\.$/,
    );
    await expect(
      run('grant', { org: 'globex', user: 'gus@globex.test', amount: '3', reason: 'probe', id: 'welcome-2027' }),
    ).rejects.toThrow(
      /^Grant id "welcome-2027" was already used in this org for a different grant; use a new id for a new grant\.$/,
    );
    expect((await run('history', { org: 'acme', user: 'alice@acme.test' })).text).toMatch(
      /\+\s+1 innovation\s+grant\s+welcome-2027$/m,
    );
  });

  it("sets an org's monthly judge budget: this month's is funded at once from the org's issuance, once", async () => {
    const set = await run('judge-budget set', { org: 'globex', amount: '25' });
    expect(set.text).toBe(
      "Judge budget of org globex: 25 innovation a month; this month's is funded now. Judge wallet: 25 innovation available.",
    );
    expect((await run('judge-budget set', { org: 'globex', amount: '30' })).text).toMatch(
      /this month was funded already \(a new amount applies from next month\)\. Judge wallet: 25 innovation available\.$/,
    );
    expect((await run('judge-budget show', { org: 'globex' })).text).toMatch(
      /innovation\s+30 a month, judge wallet 25 available/,
    );
    expect((await run('org grant-bounds', { org: 'globex' })).text).toMatch(/527 innovation issued/);
    // Acme's bounds leave 30 this month: a 40 budget is set, but this month's is refused by the bound.
    expect((await run('judge-budget set', { org: 'acme', amount: '40' })).text).toMatch(
      /this month's was not funded: A grant of 40 innovation exceeds org acme's bound monthlyIssuanceMax/,
    );
  });
});
