import { listAuditForEntity, setPlatformOrg } from '@tokenwise/db';
import { publishPriceList, registerClusters, type ClusterConfig } from '@tokenwise/control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
beforeAll(async () => {
  f = await openApiFixture();
});
afterAll(async () => {
  await f?.close();
});

const priceList = {
  version: 'api-test-1',
  models: {
    'sim-llama-8b': {
      currency: 'innovation',
      cInputPerMTok: '1000000',
      cOutputPerMTok: '2000000',
      weightBillions: '8',
      cModelPerBParam: '10',
      tiers: {
        low: { fee: '0', currency: 'innovation' },
        normal: { fee: '0', currency: 'innovation' },
        high: { fee: '100', currency: 'innovation' },
        urgent: { fee: '1000', currency: 'priority' },
      },
    },
  },
};

const cluster: ClusterConfig = {
  name: 'gpu-eu',
  models: ['sim-llama-8b'],
  replicas: [{ id: 'gpu-eu-0', url: 'http://10.0.0.5:8000' }],
  maxConcurrencyPerReplica: 32,
  priorityScheduling: true,
  queueDepthMax: 100,
  queueWaitMsMax: 10_000,
  region: 'eu-west-1',
  gridIntensityGCo2ePerKwh: 250,
  pue: 1.2,
};

describe('admin', () => {
  it('users: list pages through the org only; create is audited and checks the team', async () => {
    const admin = await f.as(f.users.admin);
    const first = await admin.admin.users.list({ limit: 3 });
    const rest = await admin.admin.users.list({ limit: 100, afterId: first.at(-1)?.id });
    expect(first.length + rest.length).toBe(6);
    expect([...first, ...rest].map((user) => user.orgId)).toEqual(Array(6).fill(f.org.id));
    const created = await admin.admin.users.create({
      email: 'new@acme.test',
      displayName: 'New',
      teamId: f.teams.eng.id,
      roles: ['employee'],
    });
    expect(created).toMatchObject({ orgId: f.org.id, teamId: f.teams.eng.id });
    expect(
      (await listAuditForEntity(f.db, { entityType: 'user', entityId: created.id })).map((row) => row.action),
    ).toEqual(['user.create']);
    await expect(
      (await f.as(f.otherAdmin)).admin.users.create({
        email: 'x@globex.test',
        displayName: 'X',
        teamId: f.teams.eng.id,
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(admin.admin.users.create({ email: 'not an email', displayName: 'X' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('roles: set is audited; an admin cannot drop their own admin role; another org’s user is NOT_FOUND', async () => {
    const admin = await f.as(f.users.admin);
    const updated = await admin.admin.users.setRoles({ userId: f.users.colleague.id, roles: ['employee', 'esg'] });
    expect(updated.roles).toEqual(['employee', 'esg']);
    const audit = await listAuditForEntity(f.db, { entityType: 'user', entityId: f.users.colleague.id });
    expect(audit[0]).toMatchObject({
      action: 'user.set_roles',
      before: { roles: ['employee'] },
      after: { roles: ['employee', 'esg'] },
    });
    await expect(admin.admin.users.setRoles({ userId: f.users.admin.id, roles: ['employee'] })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(admin.admin.users.setRoles({ userId: f.otherAdmin.id, roles: ['employee'] })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('memberships: an admin moves a user to a team or out of every team (audited); another org’s team or user is NOT_FOUND', async () => {
    const admin = await f.as(f.users.admin);
    const mover = await admin.admin.users.create({
      email: 'mover@acme.test',
      displayName: 'Mover',
      teamId: f.teams.eng.id,
    });
    expect(await admin.admin.users.setTeam({ userId: mover.id, teamId: f.teams.ops.id })).toMatchObject({
      id: mover.id,
      teamId: f.teams.ops.id,
    });
    expect(await admin.admin.users.setTeam({ userId: mover.id, teamId: null })).toMatchObject({
      id: mover.id,
      teamId: null,
    });
    const audit = await listAuditForEntity(f.db, { entityType: 'user', entityId: mover.id });
    expect(audit.filter((row) => row.action === 'user.set_team').map((row) => [row.before, row.after])).toEqual(
      expect.arrayContaining([
        [{ teamId: f.teams.eng.id }, { teamId: f.teams.ops.id }],
        [{ teamId: f.teams.ops.id }, { teamId: null }],
      ]),
    );
    const other = await f.as(f.otherAdmin);
    await expect(other.admin.users.setTeam({ userId: mover.id, teamId: null })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(admin.admin.users.setTeam({ userId: f.otherAdmin.id, teamId: null })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const otherTeam = await other.admin.teams.create({ slug: 'globex-eng', name: 'Globex Eng' });
    await expect(admin.admin.users.setTeam({ userId: mover.id, teamId: otherTeam.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(admin.admin.users.setTeam({ userId: mover.id, teamId: 'not-a-uuid' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('teams: list and create (audited)', async () => {
    const admin = await f.as(f.users.admin);
    const team = await admin.admin.teams.create({ slug: 'research', name: 'Research' });
    expect((await admin.admin.teams.list()).map((item) => item.slug)).toEqual(['eng', 'ops', 'research']);
    expect(
      (await listAuditForEntity(f.db, { entityType: 'team', entityId: team.id })).map((row) => row.action),
    ).toEqual(['team.create']);
    await expect(admin.admin.teams.create({ slug: 'Not A Slug', name: 'x' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('prices: show before publishing is NOT_FOUND; publish is validated, scoped to the caller’s org and audited', async () => {
    const admin = await f.as(f.users.admin);
    await expect(admin.admin.prices.show()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(admin.admin.prices.publish({ body: { version: 'bad', models: {} } })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const published = await admin.admin.prices.publish({ body: priceList });
    expect(published).toEqual({ version: 1, scope: 'org', label: 'api-test-1', models: ['sim-llama-8b'] });
    expect(await admin.admin.prices.show()).toMatchObject({
      version: 1,
      scope: 'org',
      label: 'api-test-1',
      list: { version: 'api-test-1' },
    });
    const audit = await listAuditForEntity(f.db, { entityType: 'price_list', entityId: '1' });
    expect(audit.map((row) => ({ action: row.action, orgId: row.orgId, actor: row.actor }))).toEqual([
      { action: 'price_list.publish', orgId: f.org.id, actor: `user:${f.users.admin.id}` },
    ]);
  });

  it('prices: an admin of another org neither sees nor changes this org’s list; both fall back to the platform default', async () => {
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    await expect(other.admin.prices.show()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const operator = await publishPriceList(f.db, {
      body: { ...priceList, version: 'platform-1' },
      actor: 'system:test',
    });
    expect(operator.orgId).toBeNull();
    expect(await other.admin.prices.show()).toMatchObject({
      version: operator.version,
      scope: 'default',
      label: 'platform-1',
    });
    expect(await admin.admin.prices.show()).toMatchObject({ version: 1, scope: 'org', label: 'api-test-1' });
    const theirs = await other.admin.prices.publish({ body: { ...priceList, version: 'globex-1' } });
    expect(theirs).toMatchObject({ scope: 'org', label: 'globex-1' });
    expect(await admin.admin.prices.show()).toMatchObject({ version: 1, label: 'api-test-1' });
    expect((await admin.admin.prices.history({})).map((row) => [row.label, row.scope])).toEqual([
      ['platform-1', 'default'],
      ['api-test-1', 'org'],
    ]);
    expect((await other.admin.prices.history({})).map((row) => [row.label, row.scope])).toEqual([
      ['globex-1', 'org'],
      ['platform-1', 'default'],
    ]);
    const [newest] = await admin.admin.prices.history({ limit: 1 });
    expect(newest).toMatchObject({ version: operator.version, models: ['sim-llama-8b'], createdBy: 'system:test' });
    expect(typeof newest?.createdAt).toBe('string');
    expect((await admin.admin.prices.history({ beforeVersion: operator.version })).map((row) => row.version)).toEqual([
      1,
    ]);
    const audit = await listAuditForEntity(f.db, { entityType: 'price_list', entityId: String(operator.version) });
    expect(audit.map((row) => ({ orgId: row.orgId, actor: row.actor, after: row.after }))).toEqual([
      {
        orgId: null,
        actor: 'system:test',
        after: { version: operator.version, scope: 'default', label: 'platform-1', models: ['sim-llama-8b'] },
      },
    ]);
  });

  it('prices: validation errors name the field', async () => {
    const admin = await f.as(f.users.admin);
    const bad = {
      ...priceList,
      models: { 'sim-llama-8b': { ...priceList.models['sim-llama-8b'], cInputPerMTok: '-1' } },
    };
    expect(await fieldsOf(admin.admin.prices.publish({ body: bad }))).toEqual(['models.sim-llama-8b.cInputPerMTok']);
    expect(await fieldsOf(admin.admin.prices.history({ limit: 0 }))).toEqual(['limit']);
    expect(await fieldsOf(admin.admin.prices.history({ beforeVersion: -3 }))).toEqual(['beforeVersion']);
  });

  it('clusters: any admin lists them; only an admin of the platform org sees replica URLs and sets carbon coefficients (audited)', async () => {
    await registerClusters(f.db, { clusters: [cluster], actor: 'system:gateway' });
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    const carbon = { name: 'gpu-eu', gridIntensityGCo2ePerKwh: 120, pue: 1.1 };
    await expect(admin.admin.clusters.setCarbon(carbon)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('platform org'),
    });
    expect(await other.admin.clusters.list()).toEqual([
      expect.objectContaining({
        name: 'gpu-eu',
        models: ['sim-llama-8b'],
        replicas: [{ id: 'gpu-eu-0', url: null, disabled: false, health: null }],
        region: 'eu-west-1',
        gridIntensityGCo2ePerKwh: 250,
        pue: 1.2,
        priorityScheduling: true,
        carbonSource: 'config',
        disabled: false,
        version: 1,
      }),
    ]);
    await setPlatformOrg(f.db, { orgId: f.org.id, actor: 'system:test' });
    const updated = await admin.admin.clusters.setCarbon(carbon);
    expect(updated).toMatchObject({
      name: 'gpu-eu',
      region: 'eu-west-1',
      gridIntensityGCo2ePerKwh: 120,
      pue: 1.1,
      carbonSource: 'api',
      carbonSetBy: `user:${f.users.admin.id}`,
      version: 2,
    });
    expect((await admin.admin.clusters.list())[0]?.replicas).toEqual([
      { id: 'gpu-eu-0', url: 'http://10.0.0.5:8000', disabled: false, health: null },
    ]);
    await expect(other.admin.clusters.setCarbon({ ...carbon, pue: 1.3 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await other.admin.clusters.list())[0]).toMatchObject({
      gridIntensityGCo2ePerKwh: 120,
      replicas: [{ url: null }],
    });
    const audit = await listAuditForEntity(f.db, { entityType: 'cluster', entityId: 'gpu-eu' });
    expect(audit[0]).toMatchObject({
      action: 'cluster.set_carbon',
      orgId: null,
      actor: `user:${f.users.admin.id}`,
      before: { gridIntensityGCo2ePerKwh: 250, pue: 1.2 },
      after: { gridIntensityGCo2ePerKwh: 120, pue: 1.1 },
    });
  });

  it('clusters: setCarbon names the bad field, and an unknown cluster is NOT_FOUND', async () => {
    const admin = await f.as(f.users.admin);
    expect(
      await fieldsOf(admin.admin.clusters.setCarbon({ name: 'gpu-eu', gridIntensityGCo2ePerKwh: 5000, pue: 1.2 })),
    ).toEqual(['gridIntensityGCo2ePerKwh']);
    expect(
      await fieldsOf(admin.admin.clusters.setCarbon({ name: 'gpu-eu', gridIntensityGCo2ePerKwh: 100, pue: 0.5 })),
    ).toEqual(['pue']);
    expect(
      await fieldsOf(
        admin.admin.clusters.setCarbon({ name: 'gpu-eu', gridIntensityGCo2ePerKwh: 100, pue: null, region: '' }),
      ),
    ).toEqual(['region']);
    await expect(
      admin.admin.clusters.setCarbon({ name: 'nope', gridIntensityGCo2ePerKwh: 100, pue: null }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await admin.admin.clusters.list())[0]).toMatchObject({ gridIntensityGCo2ePerKwh: 120, version: 2 });
  });

  it('clusters: a platform admin disables and enables a cluster or replica (audited); other orgs’ admins may not', async () => {
    await registerClusters(f.db, {
      clusters: [
        {
          ...cluster,
          name: 'gpu-us',
          models: ['other-model'],
          replicas: [
            { id: 'gpu-us-0', url: 'http://10.0.2.5:8000' },
            { id: 'gpu-us-1', url: 'http://10.0.2.6:8000' },
          ],
        },
      ],
      actor: 'system:gateway',
    });
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    await expect(other.admin.clusters.setDisabled({ name: 'gpu-us', disabled: true })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      other.admin.clusters.setReplicaDisabled({ name: 'gpu-us', replicaId: 'gpu-us-0', disabled: true }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await admin.admin.clusters.setDisabled({ name: 'gpu-us', disabled: true })).toMatchObject({
      name: 'gpu-us',
      disabled: true,
    });
    const replica = await admin.admin.clusters.setReplicaDisabled({
      name: 'gpu-us',
      replicaId: 'gpu-us-1',
      disabled: true,
    });
    expect(replica.replicas.map((entry) => [entry.id, entry.disabled])).toEqual([
      ['gpu-us-0', false],
      ['gpu-us-1', true],
    ]);
    await expect(
      admin.admin.clusters.setReplicaDisabled({ name: 'gpu-us', replicaId: 'gpu-us-0', disabled: true }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(
      admin.admin.clusters.setReplicaDisabled({ name: 'gpu-us', replicaId: 'gpu-us-7', disabled: true }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(
      await fieldsOf(admin.admin.clusters.setDisabled({ name: 'gpu-us', disabled: 'yes' as unknown as boolean })),
    ).toEqual(['disabled']);
    expect(await admin.admin.clusters.setDisabled({ name: 'gpu-us', disabled: false })).toMatchObject({
      disabled: false,
    });
    const actions = (await listAuditForEntity(f.db, { entityType: 'cluster', entityId: 'gpu-us' })).map((row) => [
      row.action,
      row.actor,
    ]);
    expect(actions.slice(0, 3)).toEqual([
      ['cluster.enable', `user:${f.users.admin.id}`],
      ['cluster.disable_replica', `user:${f.users.admin.id}`],
      ['cluster.disable', `user:${f.users.admin.id}`],
    ]);
  });

  it('clusters: a platform admin adds a cluster and removes it once disabled; errors name the field', async () => {
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    const added = {
      ...cluster,
      name: 'gpu-ap',
      models: ['ap-model'],
      replicas: [{ id: 'gpu-ap-0', url: 'http://10.0.3.5:8000' }],
    };
    await expect(other.admin.clusters.add({ cluster: added })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(
      await fieldsOf(
        admin.admin.clusters.add({ cluster: { ...added, replicas: [{ id: 'gpu-ap-0', url: 'ftp://x' }], pue: 9 } }),
      ),
    ).toEqual(['cluster.replicas.0.url', 'cluster.pue']);
    expect(await admin.admin.clusters.add({ cluster: added })).toMatchObject({
      name: 'gpu-ap',
      source: 'api',
      carbonSource: 'api',
      version: 1,
    });
    await expect(admin.admin.clusters.remove({ name: 'gpu-ap' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('disable it first'),
    });
    await expect(other.admin.clusters.remove({ name: 'gpu-ap' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await admin.admin.clusters.setDisabled({ name: 'gpu-ap', disabled: true });
    expect(await admin.admin.clusters.remove({ name: 'gpu-ap' })).toMatchObject({ name: 'gpu-ap' });
    await expect(admin.admin.clusters.remove({ name: 'gpu-eu' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('startup configuration'),
    });
    expect((await admin.admin.clusters.list()).map((entry) => entry.name)).toEqual(['gpu-eu', 'gpu-us']);
  });

  it('clusters: a platform admin adds and removes replicas of a cluster added through the API', async () => {
    const admin = await f.as(f.users.admin);
    const other = await f.as(f.otherAdmin);
    await admin.admin.clusters.add({
      cluster: {
        ...cluster,
        name: 'gpu-sa',
        models: ['sa-model'],
        replicas: [{ id: 'gpu-sa-0', url: 'http://10.0.5.5:8000' }],
      },
    });
    await expect(
      other.admin.clusters.addReplica({ name: 'gpu-sa', replica: { id: 'gpu-sa-1', url: 'http://10.0.5.6:8000' } }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(
      await fieldsOf(admin.admin.clusters.addReplica({ name: 'gpu-sa', replica: { id: 'bad id', url: 'nope' } })),
    ).toEqual(['replica.id', 'replica.url']);
    const grown = await admin.admin.clusters.addReplica({
      name: 'gpu-sa',
      replica: { id: 'gpu-sa-1', url: 'http://10.0.5.6:8000' },
    });
    expect(grown.replicas.map((replica) => replica.id)).toEqual(['gpu-sa-0', 'gpu-sa-1']);
    await expect(
      admin.admin.clusters.addReplica({ name: 'gpu-eu', replica: { id: 'gpu-eu-9', url: 'http://10.0.5.7:8000' } }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(admin.admin.clusters.removeReplica({ name: 'gpu-sa', replicaId: 'gpu-sa-0' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('disable it first'),
    });
    await expect(other.admin.clusters.removeReplica({ name: 'gpu-sa', replicaId: 'gpu-sa-0' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await admin.admin.clusters.setReplicaDisabled({ name: 'gpu-sa', replicaId: 'gpu-sa-0', disabled: true });
    expect(
      (await admin.admin.clusters.removeReplica({ name: 'gpu-sa', replicaId: 'gpu-sa-0' })).replicas.map(
        (replica) => replica.id,
      ),
    ).toEqual(['gpu-sa-1']);
  });

  it('employees, leads and esg officers are refused every admin procedure, and so is an anonymous caller', async () => {
    for (const user of [f.users.employee, f.users.lead, f.users.esg]) {
      const caller = await f.as(user);
      await expect(caller.admin.users.list({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.users.create({ email: 'y@acme.test', displayName: 'Y' })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.admin.users.setRoles({ userId: user.id, roles: ['admin'] })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.admin.users.setTeam({ userId: user.id, teamId: null })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.admin.teams.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.teams.create({ slug: 'z', name: 'Z' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.prices.show()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.prices.publish({ body: priceList })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.prices.history({})).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.clusters.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        caller.admin.clusters.setCarbon({ name: 'gpu-eu', gridIntensityGCo2ePerKwh: 1, pue: null }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.clusters.setDisabled({ name: 'gpu-eu', disabled: true })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(caller.admin.clusters.add({ cluster })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(caller.admin.clusters.remove({ name: 'gpu-eu' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        caller.admin.clusters.addReplica({ name: 'gpu-eu', replica: { id: 'x', url: 'http://10.0.0.1:8000' } }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        caller.admin.clusters.removeReplica({ name: 'gpu-eu', replicaId: 'gpu-eu-0' }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        caller.admin.clusters.setReplicaDisabled({ name: 'gpu-eu', replicaId: 'gpu-eu-0', disabled: true }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    const anonymous = await f.anonymous();
    await expect(anonymous.admin.prices.show()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(anonymous.admin.clusters.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(
      anonymous.admin.clusters.setCarbon({ name: 'gpu-eu', gridIntensityGCo2ePerKwh: 1, pue: null }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(anonymous.admin.clusters.setDisabled({ name: 'gpu-eu', disabled: true })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});
