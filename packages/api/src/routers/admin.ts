import { ConflictError, NotFoundError, slugSchema } from '@tokenwise/core';
import {
  createTeam,
  createUser,
  findCarbonAwareRouting,
  isPlatformOrg,
  listOrgTeams,
  pageOrgUsers,
  setCarbonAwareRouting,
  setUserRoles,
  setUserTeam,
} from '@tokenwise/db';
import { roles } from '@tokenwise/db/schema';
import {
  createExperimentsServiceKey,
  experimentsScope,
  keyNameLengthMax,
  addCluster,
  addReplica,
  clusterCarbonSchema,
  clusterSchema,
  listClusters,
  listPriceLists,
  loadEffectivePriceList,
  publishPriceList,
  removeCluster,
  removeReplica,
  replicaSchema,
  setClusterCarbon,
  setClusterDisabled,
  setReplicaDisabled,
  type ClusterRecord,
} from '@tokenwise/control';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { document, pageSize } from '../inputs';
import { teamsListMax } from '../limits';
import { teamInOrg } from '../scope';
import { adminGithubProcedures } from './github';
import { actorOf, roleProcedure, router } from '../trpc';

const adminProcedure = roleProcedure('admin');
const roleList = z.array(z.enum(roles)).min(1).max(roles.length);
const withIso = <T extends { createdAt: Date }>(row: T) => ({ ...row, createdAt: row.createdAt.toISOString() });

const usersRouter = router({
  /** The org's users by id, a page at a time. */
  list: adminProcedure
    .input(z.object({ afterId: z.uuid().optional(), limit: pageSize }))
    .query(async ({ ctx, input }) => {
      const rows = await pageOrgUsers(ctx.db, { orgId: ctx.user.orgId, afterId: input.afterId, limit: input.limit });
      return rows.map(withIso);
    }),

  /** Creates a user of the caller's org (audited). */
  create: adminProcedure
    .input(
      z.object({
        email: z.email().max(254),
        displayName: z.string().trim().min(1).max(120),
        teamId: z.uuid().nullable().default(null),
        roles: roleList.default(['employee']),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.teamId !== null) await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
      return createUser(ctx.db, { actor: actorOf(ctx.user), input: { ...input, orgId: ctx.user.orgId } });
    }),

  /** Replaces a user's roles (audited). An admin cannot drop their own admin role: the org would risk having none. */
  setRoles: adminProcedure.input(z.object({ userId: z.uuid(), roles: roleList })).mutation(async ({ ctx, input }) => {
    const next = [...new Set(input.roles)];
    if (input.userId === ctx.user.userId && !next.includes('admin'))
      throw new ConflictError('You cannot remove your own admin role; another admin can.');
    const after = await setUserRoles(ctx.db, {
      orgId: ctx.user.orgId,
      userId: input.userId,
      roles: next,
      actor: actorOf(ctx.user),
    });
    if (after === undefined) throw new NotFoundError(`No user ${input.userId} in your org.`);
    return withIso(after);
  }),

  /**
   * Moves a user to a team of the org, or out of every team (null), audited. Their next requests
   * are scored and settled under the new team's configuration; requests already made keep theirs.
   */
  setTeam: adminProcedure
    .input(z.object({ userId: z.uuid(), teamId: z.uuid().nullable() }))
    .mutation(async ({ ctx, input }) => {
      if (input.teamId !== null) await teamInOrg(ctx.db, { teamId: input.teamId, orgId: ctx.user.orgId });
      const after = await setUserTeam(ctx.db, {
        orgId: ctx.user.orgId,
        userId: input.userId,
        teamId: input.teamId,
        actor: actorOf(ctx.user),
      });
      if (after === undefined) throw new NotFoundError(`No user ${input.userId} in your org.`);
      return withIso(after);
    }),
});

const teamsRouter = router({
  /** The org's teams by slug. */
  list: adminProcedure.query(async ({ ctx }) => {
    const rows = await listOrgTeams(ctx.db, { orgId: ctx.user.orgId, limit: teamsListMax });
    return rows.map(withIso);
  }),
  /** Creates a team in the caller's org (audited). */
  create: adminProcedure
    .input(z.object({ slug: slugSchema, name: z.string().trim().min(1).max(120) }))
    .mutation(({ ctx, input }) =>
      createTeam(ctx.db, { actor: actorOf(ctx.user), input: { ...input, orgId: ctx.user.orgId } }),
    ),
});

/** Which list this is to the caller's org: its own, or the platform default it falls back to. */
const scopeOf = (orgId: string | null) => (orgId === null ? ('default' as const) : ('org' as const));

const pricesRouter = router({
  /** The list that prices the caller's org now (its own newest, else the platform default), or NOT_FOUND before any is published. */
  show: adminProcedure.query(async ({ ctx }) => {
    const current = await loadEffectivePriceList(ctx.db, { orgId: ctx.user.orgId });
    if (current === undefined)
      throw new NotFoundError('No price list is published yet: publish one for your org with admin.prices.publish.');
    return { version: current.version, scope: scopeOf(current.orgId), label: current.list.version, list: current.list };
  }),
  /** Publishes the next price list of the caller's org (audited); the platform default is published by operators (CLI) only. */
  publish: adminProcedure.input(z.object({ body: document })).mutation(async ({ ctx, input }) => {
    const published = await publishPriceList(ctx.db, {
      body: input.body,
      actor: actorOf(ctx.user),
      orgId: ctx.user.orgId,
    });
    return {
      version: published.version,
      scope: scopeOf(published.orgId),
      label: published.list.version,
      models: Object.keys(published.list.models),
    };
  }),
  /** The org's own lists and the platform defaults, newest first: every list that priced or may price the org's requests. */
  history: adminProcedure
    .input(z.object({ beforeVersion: z.number().int().min(1).optional(), limit: pageSize }))
    .query(async ({ ctx, input }) => {
      const rows = await listPriceLists(ctx.db, {
        orgId: ctx.user.orgId,
        beforeVersion: input.beforeVersion,
        limit: input.limit,
      });
      return rows.map(({ orgId, ...row }) => ({ ...withIso(row), scope: scopeOf(orgId) }));
    }),
});

/**
 * Clusters are platform-wide: any admin may list them (their coefficients drive every org's carbon
 * figures), but only an admin of the platform org (`tokenwise org set-platform`) sees replica URLs
 * and changes them; a tenant admin changing a shared cluster would be a multi-tenant bug.
 */
const platformAdminProcedure = adminProcedure.use(async ({ ctx, next }) => {
  if (!(await isPlatformOrg(ctx.db, { orgId: ctx.user.orgId }))) {
    throw new TRPCError({
      code: 'FORBIDDEN',
      message:
        'Clusters are platform-wide: only an admin of the platform org may change them (an operator names it with `tokenwise org set-platform --org S`).',
    });
  }
  return next({ ctx });
});

const clusterName = z.string().trim().min(1).max(128);
const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** Owned: its electricity is Scope 2, its hardware's manufacture Scope 3 category 2 (capital goods); rented: all Scope 3 category 1 (purchased services). */
function ghgScopesOf(ownership: ClusterRecord['ownership']) {
  return ownership === 'owned'
    ? { operational: 'scope2', embodied: 'scope3-cat2' }
    : { operational: 'scope3-cat1', embodied: 'scope3-cat1' };
}

function clusterView(record: ClusterRecord, operator: boolean) {
  return {
    name: record.name,
    source: record.source,
    models: record.models,
    replicas: record.replicas.map((replica) => ({
      id: replica.id,
      url: operator ? replica.url : null,
      disabled: record.disabledReplicas.includes(replica.id),
      health: record.health?.[replica.id] ?? null,
    })),
    healthReportedAt: iso(record.healthReportedAt),
    region: record.region,
    gridIntensityGCo2ePerKwh: record.gridIntensityGCo2ePerKwh,
    gridIntensitySource: record.gridIntensitySource,
    marketGridIntensityGCo2ePerKwh: record.marketGridIntensityGCo2ePerKwh,
    pue: record.pue,
    ownership: record.ownership,
    /** GHG Protocol scopes of the cluster's emissions, from its ownership. */
    ghgScopes: ghgScopesOf(record.ownership),
    modelProfiles: record.modelProfiles ?? {},
    carbonSource: record.carbonSource,
    carbonSetBy: record.carbonSetBy,
    carbonSetAt: iso(record.carbonSetAt),
    priorityScheduling: record.priorityScheduling,
    maxConcurrencyPerReplica: record.maxConcurrencyPerReplica,
    queueDepthMax: record.queueDepthMax,
    queueWaitMsMax: record.queueWaitMsMax,
    disabled: record.disabledAt !== null,
    version: record.version,
    updatedBy: record.updatedBy,
    updatedAt: record.updatedAt.toISOString(),
  };
}

const clustersRouter = router({
  /** Every cluster the platform routes to, by name, with health as a gateway last reported it; replica URLs for platform admins only. */
  list: adminProcedure.query(async ({ ctx }) => {
    const operator = await isPlatformOrg(ctx.db, { orgId: ctx.user.orgId });
    return (await listClusters(ctx.db)).map((record) => clusterView(record, operator));
  }),
  /** Sets a cluster's region, grid intensity (location-based, its source, market-based), PUE and ownership (audited); gateways use them for new requests within seconds, and restarts keep them. */
  setCarbon: platformAdminProcedure
    .input(clusterCarbonSchema.extend({ name: clusterName }))
    .mutation(async ({ ctx, input }) => {
      const { name, ...carbon } = input;
      return clusterView(await setClusterCarbon(ctx.db, { name, carbon, actor: actorOf(ctx.user) }), true);
    }),
  /** Adds a cluster (validated like the startup configuration, audited); every gateway serves it within seconds. */
  add: platformAdminProcedure.input(z.object({ cluster: clusterSchema })).mutation(async ({ ctx, input }) => {
    return clusterView(await addCluster(ctx.db, { cluster: input.cluster, actor: actorOf(ctx.user) }), true);
  }),
  /** Removes a disabled cluster that was added through the API (audited); gateways stop serving it within seconds. */
  remove: platformAdminProcedure.input(z.object({ name: clusterName })).mutation(async ({ ctx, input }) => {
    return clusterView(await removeCluster(ctx.db, { name: input.name, actor: actorOf(ctx.user) }), true);
  }),
  /** Adds a replica to a cluster added through the API (audited); gateways send it requests within seconds. */
  addReplica: platformAdminProcedure
    .input(z.object({ name: clusterName, replica: replicaSchema }))
    .mutation(async ({ ctx, input }) => {
      return clusterView(await addReplica(ctx.db, { ...input, actor: actorOf(ctx.user) }), true);
    }),
  /** Removes a disabled replica from a cluster added through the API (audited). */
  removeReplica: platformAdminProcedure
    .input(z.object({ name: clusterName, replicaId: z.string().trim().min(1).max(128) }))
    .mutation(async ({ ctx, input }) => {
      return clusterView(await removeReplica(ctx.db, { ...input, actor: actorOf(ctx.user) }), true);
    }),
  /** Disables a cluster (its models get no new request on any gateway within seconds; requests in flight finish) or enables it (audited). */
  setDisabled: platformAdminProcedure
    .input(z.object({ name: clusterName, disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      return clusterView(await setClusterDisabled(ctx.db, { ...input, actor: actorOf(ctx.user) }), true);
    }),
  /** Takes one replica out of rotation or back in (audited); health checks go on meanwhile. */
  setReplicaDisabled: platformAdminProcedure
    .input(z.object({ name: clusterName, replicaId: z.string().trim().min(1).max(128), disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      return clusterView(await setReplicaDisabled(ctx.db, { ...input, actor: actorOf(ctx.user) }), true);
    }),
});

/** The org's carbon-aware routing: on (the default), its low and normal priority requests prefer the cleanest cluster serving their model. */
const carbonRoutingProcedures = {
  /** Whether carbon-aware routing is on for the caller's org. */
  carbonAwareRouting: adminProcedure.query(async ({ ctx }) => {
    const enabled = await findCarbonAwareRouting(ctx.db, { orgId: ctx.user.orgId });
    if (enabled === undefined) throw new NotFoundError(`No org ${ctx.user.orgId}.`);
    return { enabled };
  }),
  /** Turns it on or off for the caller's org (audited when it changes); gateways apply it within a second. */
  setCarbonAwareRouting: adminProcedure.input(z.object({ enabled: z.boolean() })).mutation(async ({ ctx, input }) => {
    return setCarbonAwareRouting(ctx.db, { orgId: ctx.user.orgId, enabled: input.enabled, actor: actorOf(ctx.user) });
  }),
};

const dayMs = 86_400_000;

/**
 * Creates a service key for an experimentation platform: the `experiments` scope alone, no user
 * behind it, the calling admin recorded as its submitter. The key and its webhook signing secret
 * are shown once. Strict: `scopes` may only be `['experiments']`, any other field is refused.
 */
const createServiceKey = adminProcedure
  .input(
    z.strictObject({
      name: z.string().trim().min(1).max(keyNameLengthMax),
      scopes: z
        .array(z.literal(experimentsScope, { error: "a service key's only scope is 'experiments'" }))
        .length(1, "a service key's only scope is 'experiments'")
        .default([experimentsScope]),
      expiresInDays: z.number().int().min(1).max(3_650).nullable().default(null),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const created = await createExperimentsServiceKey(ctx.db, {
      pepper: ctx.keyPepper,
      orgId: ctx.user.orgId,
      adminUserId: ctx.user.userId,
      name: input.name,
      expiresAt: input.expiresInDays === null ? null : new Date(Date.now() + input.expiresInDays * dayMs),
      createdByKeyId: ctx.keyId,
      actor: actorOf(ctx.user),
    });
    return {
      key: {
        id: created.key.id,
        name: created.key.name,
        scopes: created.key.scopes,
        systemOwner: created.key.systemOwner,
        expiresAt: created.key.expiresAt?.toISOString() ?? null,
        createdAt: created.key.createdAt.toISOString(),
      },
      secret: created.secret,
      webhookSecret: created.webhookSecret,
    };
  });

export const adminRouter = router({
  ...carbonRoutingProcedures,
  ...adminGithubProcedures,
  createServiceKey,
  users: usersRouter,
  teams: teamsRouter,
  prices: pricesRouter,
  clusters: clustersRouter,
});
