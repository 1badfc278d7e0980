import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenwise } from '../test-kit';

const tokenwise = runTokenwise;

const tiers = {
  low: { fee: '0', currency: 'innovation' },
  normal: { fee: '0', currency: 'innovation' },
  high: { fee: '0', currency: 'innovation' },
  urgent: { fee: '0', currency: 'innovation' },
};
const priceList = {
  version: 'v1',
  models: {
    'sim-llama-8b': {
      currency: 'innovation',
      cInputPerMTok: '1',
      cOutputPerMTok: '2',
      weightBillions: '8',
      cModelPerBParam: '0',
      tiers,
    },
  },
};

describe('tokenwise prices and reconcile on the command line', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-prices-cli-'));
    env = { TOKENWISE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', TEMPORAL_ADDRESS: undefined };
    await mkdir(join(dir, 'work'));
    await writeFile(join(dir, 'work', 'prices.json'), JSON.stringify(priceList));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes a price list named relative to the working directory, shows it as JSON, and reconciles', async () => {
    const published = await tokenwise(['prices', 'publish', '--file', 'prices.json'], { env, cwd: join(dir, 'work') });
    expect(published.stderr).toBe('');
    expect(published).toMatchObject({
      code: 0,
      stdout: `Published price list version 1 ("v1") from ${join(dir, 'work', 'prices.json')}: models sim-llama-8b. Gateways price new requests with it within seconds.\n`,
    });
    const shown = await tokenwise(['prices', 'show', '--json'], { env, cwd: dir });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      version: 1,
      list: { version: 'v1', models: { 'sim-llama-8b': { currency: 'innovation' } } },
    });
    const reconciled = await tokenwise(['reconcile'], { env, cwd: dir });
    expect(reconciled).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Closed 0 abandoned request\(s\) .*\nReleased 0 lapsed hold\(s\)\.\n$/),
    });
  });
});
