import { listAuditForEntity } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { expect, it } from 'vitest';
import {
  addCluster,
  addReplica,
  findCluster,
  listClusters,
  registerClusters,
  removeCluster,
  removeReplica,
  reportClusterHealth,
  setClusterCarbon,
  setClusterDisabled,
  setReplicaDisabled,
} from './index';
import type { ClusterConfig } from './cluster-config';

const config = (overrides: Partial<ClusterConfig> = {}): ClusterConfig => ({
  name: 'gpu-a',
  models: ['m-8b'],
  replicas: [{ id: 'gpu-a-0', url: 'http://10.0.0.5:8000' }],
  maxConcurrencyPerReplica: 32,
  priorityScheduling: true,
  queueDepthMax: 100,
  queueWaitMsMax: 10_000,
  region: 'eu-west-1',
  gridIntensityGCo2ePerKwh: 250,
  pue: 1.2,
  ...overrides,
});

describeEachBackend('cluster registry', (database) => {
  it('registers configured clusters once; a restart with the same config changes nothing', async () => {
    const db = database().db;
    const [first] = await registerClusters(db, { clusters: [config()], actor: 'system:gateway' });
    expect(first).toMatchObject({
      name: 'gpu-a',
      models: ['m-8b'],
      replicas: [{ id: 'gpu-a-0', url: 'http://10.0.0.5:8000' }],
      gridIntensityGCo2ePerKwh: 250,
      pue: 1.2,
      carbonSource: 'config',
      version: 1,
    });
    const [again] = await registerClusters(db, { clusters: [config()], actor: 'system:gateway' });
    expect(again?.version).toBe(1);
    expect(
      (await listAuditForEntity(db, { entityType: 'cluster', entityId: 'gpu-a' })).map((row) => row.action),
    ).toEqual(['cluster.register']);
  });

  it('a changed config updates the definition and coefficients, unless an operator set the coefficients', async () => {
    const db = database().db;
    const [changed] = await registerClusters(db, {
      clusters: [config({ replicas: [{ id: 'gpu-a-0', url: 'http://10.0.0.6:8000' }], gridIntensityGCo2ePerKwh: 300 })],
      actor: 'system:gateway',
    });
    expect(changed).toMatchObject({
      version: 2,
      gridIntensityGCo2ePerKwh: 300,
      replicas: [{ url: 'http://10.0.0.6:8000' }],
    });
    const set = await setClusterCarbon(db, {
      name: 'gpu-a',
      carbon: { gridIntensityGCo2ePerKwh: 42.5, pue: null },
      actor: 'user:op',
    });
    expect(set).toMatchObject({
      version: 3,
      region: 'eu-west-1',
      gridIntensityGCo2ePerKwh: 42.5,
      pue: null,
      carbonSource: 'api',
      carbonSetBy: 'user:op',
    });
    const [restarted] = await registerClusters(db, {
      clusters: [config({ queueDepthMax: 200, gridIntensityGCo2ePerKwh: 999 })],
      actor: 'system:gateway',
    });
    expect(restarted).toMatchObject({
      version: 4,
      queueDepthMax: 200,
      gridIntensityGCo2ePerKwh: 42.5,
      pue: null,
      carbonSource: 'api',
    });
    const audit = await listAuditForEntity(db, { entityType: 'cluster', entityId: 'gpu-a' });
    expect(audit.find((row) => row.action === 'cluster.set_carbon')).toMatchObject({
      orgId: null,
      actor: 'user:op',
      before: { gridIntensityGCo2ePerKwh: 300, pue: 1.2 },
      after: { gridIntensityGCo2ePerKwh: 42.5, pue: null },
    });
  });

  it('refuses coefficients out of range naming the field, an unknown cluster, and an invalid config', async () => {
    const db = database().db;
    await expect(
      setClusterCarbon(db, { name: 'gpu-a', carbon: { gridIntensityGCo2ePerKwh: 5000, pue: 0.5 }, actor: 'user:op' }),
    ).rejects.toThrow(/gridIntensityGCo2ePerKwh: must be at most 2000 gCO2e\/kWh.*pue: must be at least 1/);
    await expect(
      setClusterCarbon(db, { name: 'nope', carbon: { gridIntensityGCo2ePerKwh: 5, pue: null }, actor: 'user:op' }),
    ).rejects.toThrow(/No cluster "nope"/);
    await expect(
      registerClusters(db, { clusters: [config({ name: 'bad', replicas: [] })], actor: 'system:gateway' }),
    ).rejects.toThrow(/replicas/);
    expect((await findCluster(db, { name: 'gpu-a' }))?.gridIntensityGCo2ePerKwh).toBe(42.5);
  });

  it('stores the health a gateway reports, per replica, without a new version', async () => {
    const db = database().db;
    await reportClusterHealth(db, {
      replicas: [{ id: 'gpu-a-0', cluster: 'gpu-a', healthy: false, circuit: 'open' }],
    });
    const [record] = (await listClusters(db)).filter((entry) => entry.name === 'gpu-a');
    expect(record).toMatchObject({ version: 4, health: { 'gpu-a-0': { healthy: false, circuit: 'open' } } });
    expect(record?.healthReportedAt).toBeInstanceOf(Date);
  });

  it('disables and enables a cluster and its replicas (audited); a restart keeps that state; the last replica stays enabled', async () => {
    const db = database().db;
    await registerClusters(db, {
      clusters: [
        config({
          name: 'gpu-b',
          models: ['m-70b'],
          replicas: [
            { id: 'gpu-b-0', url: 'http://10.0.1.5:8000' },
            { id: 'gpu-b-1', url: 'http://10.0.1.6:8000' },
          ],
        }),
      ],
      actor: 'system:gateway',
    });
    const disabled = await setClusterDisabled(db, { name: 'gpu-b', disabled: true, actor: 'user:op' });
    expect(disabled.disabledAt).toBeInstanceOf(Date);
    expect((await setClusterDisabled(db, { name: 'gpu-b', disabled: true, actor: 'user:op' })).version).toBe(
      disabled.version,
    );
    expect(
      await setReplicaDisabled(db, { name: 'gpu-b', replicaId: 'gpu-b-1', disabled: true, actor: 'user:op' }),
    ).toMatchObject({ disabledReplicas: ['gpu-b-1'] });
    await expect(
      setReplicaDisabled(db, { name: 'gpu-b', replicaId: 'gpu-b-0', disabled: true, actor: 'user:op' }),
    ).rejects.toThrow(/last enabled replica of cluster "gpu-b": disable the cluster instead/);
    await expect(
      setReplicaDisabled(db, { name: 'gpu-b', replicaId: 'gpu-b-9', disabled: true, actor: 'user:op' }),
    ).rejects.toThrow(/has no replica "gpu-b-9"; its replicas are gpu-b-0, gpu-b-1/);
    const [restarted] = await registerClusters(db, {
      clusters: [
        config({
          name: 'gpu-b',
          models: ['m-70b'],
          replicas: [
            { id: 'gpu-b-0', url: 'http://10.0.1.5:8000' },
            { id: 'gpu-b-1', url: 'http://10.0.1.6:8000' },
          ],
        }),
      ],
      actor: 'system:gateway',
    });
    expect(restarted).toMatchObject({ disabledReplicas: ['gpu-b-1'] });
    expect(restarted?.disabledAt).toBeInstanceOf(Date);
    const enabled = await setClusterDisabled(db, { name: 'gpu-b', disabled: false, actor: 'user:op' });
    expect(enabled).toMatchObject({ disabledAt: null, disabledReplicas: ['gpu-b-1'] });
    expect(
      (await setReplicaDisabled(db, { name: 'gpu-b', replicaId: 'gpu-b-1', disabled: false, actor: 'user:op' }))
        .disabledReplicas,
    ).toEqual([]);
    const actions = (await listAuditForEntity(db, { entityType: 'cluster', entityId: 'gpu-b' })).map(
      (row) => row.action,
    );
    expect(actions).toEqual([
      'cluster.enable_replica',
      'cluster.enable',
      'cluster.disable_replica',
      'cluster.disable',
      'cluster.register',
    ]);
  });

  it('adds a cluster through the API without clashing names, models or replica ids, and removes it only once disabled', async () => {
    const db = database().db;
    const extra = config({
      name: 'gpu-c',
      models: ['m-extra'],
      replicas: [{ id: 'gpu-c-0', url: 'http://10.0.2.5:8000' }],
    });
    const added = await addCluster(db, { cluster: extra, actor: 'user:op' });
    expect(added).toMatchObject({
      name: 'gpu-c',
      source: 'api',
      carbonSource: 'api',
      registeredBy: 'user:op',
      version: 1,
    });
    await expect(addCluster(db, { cluster: extra, actor: 'user:op' })).rejects.toThrow(
      /A cluster named "gpu-c" exists already/,
    );
    await expect(
      addCluster(db, { cluster: { ...extra, name: 'gpu-d', models: ['m-new'] }, actor: 'user:op' }),
    ).rejects.toThrow(/Replica id "gpu-c-0" is already used by cluster "gpu-c"/);
    await expect(addCluster(db, { cluster: { ...extra, name: 'gpu-d', pue: 7 }, actor: 'user:op' })).rejects.toThrow(
      /0\.pue: must be at most 3/,
    );
    await expect(removeCluster(db, { name: 'gpu-c', actor: 'user:op' })).rejects.toThrow(
      /is enabled: disable it first/,
    );
    await expect(removeCluster(db, { name: 'gpu-a', actor: 'user:op' })).rejects.toThrow(
      /comes from a gateway's startup configuration/,
    );
    await setClusterDisabled(db, { name: 'gpu-c', disabled: true, actor: 'user:op' });
    expect((await removeCluster(db, { name: 'gpu-c', actor: 'user:op' })).name).toBe('gpu-c');
    expect(await findCluster(db, { name: 'gpu-c' })).toBeUndefined();
    const actions = (await listAuditForEntity(db, { entityType: 'cluster', entityId: 'gpu-c' })).map(
      (row) => row.action,
    );
    expect(actions).toEqual(['cluster.remove', 'cluster.disable', 'cluster.add']);
  });

  it('adds and removes replicas of a cluster added through the API (audited), never those of a configured one', async () => {
    const db = database().db;
    await addCluster(db, {
      cluster: config({ name: 'gpu-e', models: ['m-e'], replicas: [{ id: 'gpu-e-0', url: 'http://10.0.4.5:8000' }] }),
      actor: 'user:op',
    });
    const grown = await addReplica(db, {
      name: 'gpu-e',
      replica: { id: 'gpu-e-1', url: 'http://10.0.4.6:8000/' },
      actor: 'user:op',
    });
    expect(grown.replicas).toEqual([
      { id: 'gpu-e-0', url: 'http://10.0.4.5:8000' },
      { id: 'gpu-e-1', url: 'http://10.0.4.6:8000' },
    ]);
    await expect(
      addReplica(db, { name: 'gpu-e', replica: { id: 'gpu-a-0', url: 'http://10.0.4.7:8000' }, actor: 'user:op' }),
    ).rejects.toThrow(/Replica id "gpu-a-0" is already used by cluster "gpu-a"/);
    await expect(
      addReplica(db, { name: 'gpu-e', replica: { id: 'gpu-e-2', url: 'http://10.0.4.7:8000/v1' }, actor: 'user:op' }),
    ).rejects.toThrow(/without \/v1/);
    await expect(
      addReplica(db, { name: 'gpu-a', replica: { id: 'gpu-a-9', url: 'http://10.0.4.7:8000' }, actor: 'user:op' }),
    ).rejects.toThrow(/startup configuration: change its replicas there/);
    await expect(removeReplica(db, { name: 'gpu-e', replicaId: 'gpu-e-0', actor: 'user:op' })).rejects.toThrow(
      /is enabled: disable it first/,
    );
    await setReplicaDisabled(db, { name: 'gpu-e', replicaId: 'gpu-e-0', disabled: true, actor: 'user:op' });
    const shrunk = await removeReplica(db, { name: 'gpu-e', replicaId: 'gpu-e-0', actor: 'user:op' });
    expect(shrunk).toMatchObject({ replicas: [{ id: 'gpu-e-1' }], disabledReplicas: [] });
    const actions = (await listAuditForEntity(db, { entityType: 'cluster', entityId: 'gpu-e' })).map(
      (row) => row.action,
    );
    expect(actions).toEqual([
      'cluster.remove_replica',
      'cluster.disable_replica',
      'cluster.add_replica',
      'cluster.add',
    ]);
  });
});
