import { listAuditForEntity, setPlatformOrg } from '@tokenwise/db';
import { registerClusters, type ClusterConfig } from '@tokenwise/control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
  await setPlatformOrg(f.db, { orgId: f.org.id, actor: 'system:test' });
});
afterAll(async () => {
  await f?.close();
});

const rented: ClusterConfig = {
  name: 'gpu-rented',
  models: ['sim-mixtral'],
  replicas: [{ id: 'gpu-rented-0', url: 'http://10.0.0.7:8000' }],
  maxConcurrencyPerReplica: 32,
  priorityScheduling: false,
  queueDepthMax: 100,
  queueWaitMsMax: 10_000,
  region: 'de',
  gridIntensityGCo2ePerKwh: 380,
  gridIntensitySource: 'Ember 2024, DE annual average',
  marketGridIntensityGCo2ePerKwh: 35,
  ownership: 'rented',
  modelProfiles: { 'sim-mixtral': { totalParamsBillions: 46.7, activeParamsBillions: 12.9 } },
};

describe('cluster carbon fields through the admin API', () => {
  it('lists the grid-intensity source, the market-based factor, ownership with its GHG scopes, and model profiles', async () => {
    await registerClusters(f.db, { clusters: [rented], actor: 'system:gateway' });
    const admin = await f.as(f.users.admin);
    expect((await admin.admin.clusters.list()).find((entry) => entry.name === 'gpu-rented')).toMatchObject({
      gridIntensityGCo2ePerKwh: 380,
      gridIntensitySource: 'Ember 2024, DE annual average',
      marketGridIntensityGCo2ePerKwh: 35,
      ownership: 'rented',
      ghgScopes: { operational: 'scope3-cat1', embodied: 'scope3-cat1' },
      modelProfiles: { 'sim-mixtral': { totalParamsBillions: 46.7, activeParamsBillions: 12.9 } },
    });
  });

  it('setCarbon changes them (audited), keeps those left out, and clears with null', async () => {
    const admin = await f.as(f.users.admin);
    const owned = await admin.admin.clusters.setCarbon({
      name: 'gpu-rented',
      gridIntensityGCo2ePerKwh: 360,
      pue: 1.15,
      gridIntensitySource: 'Electricity Maps 2025, DE hourly mean',
      ownership: 'owned',
    });
    expect(owned).toMatchObject({
      gridIntensityGCo2ePerKwh: 360,
      gridIntensitySource: 'Electricity Maps 2025, DE hourly mean',
      marketGridIntensityGCo2ePerKwh: 35,
      ownership: 'owned',
      ghgScopes: { operational: 'scope2', embodied: 'scope3-cat2' },
    });
    const cleared = await admin.admin.clusters.setCarbon({
      name: 'gpu-rented',
      gridIntensityGCo2ePerKwh: 360,
      pue: 1.15,
      marketGridIntensityGCo2ePerKwh: null,
    });
    expect(cleared).toMatchObject({ marketGridIntensityGCo2ePerKwh: null, ownership: 'owned' });
    expect((await admin.admin.clusters.list()).find((entry) => entry.name === 'gpu-rented')).toMatchObject({
      marketGridIntensityGCo2ePerKwh: null,
      gridIntensitySource: 'Electricity Maps 2025, DE hourly mean',
    });
    const audit = await listAuditForEntity(f.db, { entityType: 'cluster', entityId: 'gpu-rented' });
    expect(audit.find((entry) => entry.action === 'cluster.set_carbon' && entry.after !== null)).toBeDefined();
    expect(audit.map((entry) => entry.after)).toContainEqual(
      expect.objectContaining({ ownership: 'owned', marketGridIntensityGCo2ePerKwh: 35 }),
    );
    // A restart of the gateway with its configuration keeps what the operator set.
    await registerClusters(f.db, { clusters: [rented], actor: 'system:gateway' });
    expect((await admin.admin.clusters.list()).find((entry) => entry.name === 'gpu-rented')).toMatchObject({
      ownership: 'owned',
      marketGridIntensityGCo2ePerKwh: null,
    });
  });

  it('names the bad field', async () => {
    const admin = await f.as(f.users.admin);
    const base = { name: 'gpu-rented', gridIntensityGCo2ePerKwh: 100, pue: null };
    expect(await fieldsOf(admin.admin.clusters.setCarbon({ ...base, marketGridIntensityGCo2ePerKwh: 3000 }))).toEqual([
      'marketGridIntensityGCo2ePerKwh',
    ]);
    expect(
      await fieldsOf(admin.admin.clusters.setCarbon({ ...base, ownership: 'leased' as unknown as 'owned' })),
    ).toEqual(['ownership']);
    expect(await fieldsOf(admin.admin.clusters.setCarbon({ ...base, gridIntensitySource: ' ' }))).toEqual([
      'gridIntensitySource',
    ]);
    const added = {
      ...rented,
      name: 'gpu-new',
      models: ['sim-new'],
      replicas: [{ id: 'gpu-new-0', url: 'http://10.0.0.8:8000' }],
    };
    expect(
      await fieldsOf(
        admin.admin.clusters.add({
          cluster: { ...added, modelProfiles: { 'sim-new': { totalParamsBillions: 8, activeParamsBillions: 13 } } },
        }),
      ),
    ).toEqual(['cluster.modelProfiles.sim-new.activeParamsBillions']);
  });
});
