import { registerClusters } from '@tokenwise/control';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { UsageError } from '../usage-error';
import { adminCommands, type CommandOptions } from './admin/index';

const priceList = (version: string, cInputPerMTok: string) => ({
  version,
  models: {
    'llama-3-8b': {
      currency: 'innovation',
      cInputPerMTok,
      cOutputPerMTok: '600',
      weightBillions: '8',
      cModelPerBParam: '2',
      tiers: {
        low: { fee: '0', currency: 'innovation' },
        normal: { fee: '0', currency: 'innovation' },
        high: { fee: '50', currency: 'innovation' },
        urgent: { fee: '1000', currency: 'priority' },
      },
    },
  },
});

describe('tokenwise prices --org, org set-platform and clusters', () => {
  let dir: string;
  let services: Services;
  const run = async (command: string, options: CommandOptions) => {
    const handler = adminCommands[command];
    if (handler === undefined) throw new Error(`no command ${command}`);
    return handler(services, options, 'cli:tester');
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-org-prices-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    await run('org create', { slug: 'acme', name: 'Acme' });
    await run('org create', { slug: 'globex', name: 'Globex' });
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes the platform default without --org and an org’s own list with it; show says which one an org pays by', async () => {
    await writeFile(join(dir, 'default.json'), JSON.stringify(priceList('default-1', '150')));
    await writeFile(join(dir, 'acme.json'), JSON.stringify(priceList('acme-1', '300')));
    expect((await run('prices publish', { file: join(dir, 'default.json') })).data).toEqual({
      version: 1,
      label: 'default-1',
      models: ['llama-3-8b'],
    });
    const acme = await run('prices publish', { file: join(dir, 'acme.json'), org: 'acme' });
    expect(acme.text).toMatch(/^Published org acme's own price list version 2 \("acme-1"\)/);
    expect(acme.data).toEqual({ version: 2, label: 'acme-1', models: ['llama-3-8b'], org: 'acme' });
    expect((await run('prices show', { org: 'acme' })).text).toMatch(
      /^Org acme pays by its own price list\. Price list version 2 \("acme-1"\)/,
    );
    expect((await run('prices show', { org: 'globex' })).text).toMatch(
      /^Org globex has no price list of its own and pays by the platform default\. Price list version 1 /,
    );
    expect((await run('prices show', {})).data).toMatchObject({ version: 1, orgId: null });
    await expect(run('prices publish', { file: join(dir, 'acme.json'), org: 'nope' })).rejects.toThrow(/No org "nope"/);
  });

  it('names the platform org, lists clusters and sets carbon coefficients with validation', async () => {
    expect((await run('org set-platform', { org: 'acme' })).text).toBe(
      'Org acme is the platform org: its admins may change clusters through the API.',
    );
    expect((await run('clusters list', {})).text).toContain('(none registered yet');
    await registerClusters(services.database.db, {
      clusters: [
        {
          name: 'gpu-eu',
          models: ['llama-3-8b'],
          replicas: [{ id: 'gpu-eu-0', url: 'http://10.0.0.5:8000' }],
          maxConcurrencyPerReplica: 32,
          priorityScheduling: true,
          queueDepthMax: 100,
          queueWaitMsMax: 10_000,
          region: 'eu-west-1',
          gridIntensityGCo2ePerKwh: 250,
        },
      ],
      actor: 'system:gateway',
    });
    expect((await run('clusters list', {})).text).toContain(
      'gpu-eu v1: models llama-3-8b (no carbon profile: metered as dense at its price list weight); priority scheduling, 32 per replica; region eu-west-1, 250 gCO2e/kWh location-based (source not recorded), no market-based factor, default PUE, owned: electricity Scope 2, hardware Scope 3 cat. 2 (from the startup configuration)\n    gpu-eu-0 http://10.0.0.5:8000 health unknown',
    );
    const set = await run('clusters set-carbon', {
      cluster: 'gpu-eu',
      'grid-intensity': '55.5',
      pue: '1.15',
      region: 'eu-north-1',
    });
    expect(set.text).toMatch(
      /^Set the carbon coefficients of cluster gpu-eu: region eu-north-1, 55\.5 gCO2e\/kWh location-based \(source not recorded\), no market-based factor, PUE 1\.15, owned: .* \(set by cli:tester at /,
    );
    expect(
      (
        await run('clusters set-carbon', {
          cluster: 'gpu-eu',
          'grid-intensity': '55.5',
          pue: '1.15',
          source: 'Ember 2024, SE annual average',
          market: '12',
          ownership: 'rented',
        })
      ).text,
    ).toContain(
      'region eu-north-1, 55.5 gCO2e/kWh location-based (Ember 2024, SE annual average), market-based 12 gCO2e/kWh, PUE 1.15, rented: Scope 3 cat. 1',
    );
    await expect(
      run('clusters set-carbon', { cluster: 'gpu-eu', 'grid-intensity': '55.5', pue: '1.15', ownership: 'leased' }),
    ).rejects.toThrow(/ownership: must be "owned" or "rented"/);
    expect(
      (
        await run('clusters set-carbon', {
          cluster: 'gpu-eu',
          'grid-intensity': '55.5',
          pue: '1.15',
          market: 'none',
          ownership: 'owned',
        })
      ).data,
    ).toMatchObject({
      marketGridIntensityGCo2ePerKwh: null,
      gridIntensitySource: 'Ember 2024, SE annual average',
      ownership: 'owned',
      version: 4,
    });
    expect(
      (await run('clusters set-carbon', { cluster: 'gpu-eu', 'grid-intensity': '60', pue: 'default' })).data,
    ).toMatchObject({ gridIntensityGCo2ePerKwh: 60, pue: null, region: 'eu-north-1', version: 5 });
    await expect(
      run('clusters set-carbon', { cluster: 'gpu-eu', 'grid-intensity': 'lots', pue: '1.2' }),
    ).rejects.toThrow(/--grid-intensity must be a decimal number/);
    await expect(
      run('clusters set-carbon', { cluster: 'gpu-eu', 'grid-intensity': '3000', pue: '1.2' }),
    ).rejects.toThrow(/gridIntensityGCo2ePerKwh: must be at most 2000/);
    await expect(run('clusters set-carbon', { cluster: 'gpu-eu', 'grid-intensity': '30' })).rejects.toThrow(
      new UsageError('--pue is required.'),
    );

    expect((await run('clusters disable', { cluster: 'gpu-eu' })).text).toBe(
      'Disabled cluster gpu-eu: its models get no new request within seconds; requests in flight finish.',
    );
    expect((await run('clusters list', {})).text).toMatch(/gpu-eu v6 DISABLED since /);
    expect((await run('clusters enable', { cluster: 'gpu-eu' })).data).toMatchObject({ disabledAt: null, version: 7 });
    await expect(run('clusters disable', { cluster: 'gpu-eu', replica: 'gpu-eu-0' })).rejects.toThrow(
      /last enabled replica of cluster "gpu-eu"/,
    );
    await expect(run('clusters enable', { cluster: 'nope' })).rejects.toThrow(/No cluster "nope"/);

    const file = join(dir, 'cluster.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'gpu-us',
        models: ['qwen-72b'],
        replicas: [{ id: 'gpu-us-0', url: 'http://10.0.9.5:8000' }],
        maxConcurrencyPerReplica: 16,
        priorityScheduling: false,
        queueDepthMax: 10,
        queueWaitMsMax: 5_000,
        region: 'us-east-1',
        gridIntensityGCo2ePerKwh: 380,
        pue: 1.3,
        modelProfiles: { 'qwen-72b': { totalParamsBillions: 72.7, activeParamsBillions: 72.7 } },
      }),
    );
    expect((await run('clusters add', { file })).text).toMatch(
      /^Added cluster gpu-us from .*cluster\.json; every gateway serves it within seconds:\n {2}gpu-us v1: models qwen-72b \(72\.7B\); FCFS scheduling/,
    );
    await expect(run('clusters remove', { cluster: 'gpu-us' })).rejects.toThrow(/is enabled: disable it first/);
    expect(
      (await run('clusters add-replica', { cluster: 'gpu-us', replica: 'gpu-us-1', url: 'http://10.0.9.6:8000' })).text,
    ).toBe(
      'Added replica gpu-us-1 (http://10.0.9.6:8000) to cluster gpu-us; gateways send it requests within seconds.',
    );
    await run('clusters disable', { cluster: 'gpu-us', replica: 'gpu-us-0' });
    expect((await run('clusters remove-replica', { cluster: 'gpu-us', replica: 'gpu-us-0' })).data).toMatchObject({
      replicas: [{ id: 'gpu-us-1' }],
    });
    await expect(
      run('clusters add-replica', { cluster: 'gpu-eu', replica: 'gpu-eu-1', url: 'http://10.0.9.7:8000' }),
    ).rejects.toThrow(/startup configuration/);
    await run('clusters disable', { cluster: 'gpu-us' });
    expect((await run('clusters remove', { cluster: 'gpu-us' })).text).toBe(
      'Removed cluster gpu-us: gateways stop serving it within seconds.',
    );
    await writeFile(file, JSON.stringify({ name: 'bad' }));
    await expect(run('clusters add', { file })).rejects.toThrow(/0\.models/);
  });
});
