import { NotFoundError, parseWith, slugSchema, timeZoneSchema } from '@tokenwise/core';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../client';
import { orgs } from '../schema/index';
import { writeAudit } from './audit';

const orgColumns = {
  id: orgs.id,
  slug: orgs.slug,
  name: orgs.name,
  timeZone: orgs.timeZone,
  createdAt: orgs.createdAt,
};
export type Org = { id: string; slug: string; name: string; timeZone: string; createdAt: Date };

export const createOrgInput = z.object({
  slug: slugSchema,
  name: z.string().trim().min(1).max(120),
  timeZone: timeZoneSchema.default('UTC'),
});

/** Creates an org and its audit row in one transaction. */
export async function createOrg(
  db: Db,
  params: { actor: string; input: z.input<typeof createOrgInput> },
): Promise<Org> {
  const input = parseWith(createOrgInput, params.input, 'org');
  return db.transaction(async (tx) => {
    const [org] = await tx.insert(orgs).values(input).returning(orgColumns);
    if (org === undefined) throw new Error('insert into orgs returned no row');
    await writeAudit(tx, {
      orgId: org.id,
      actor: params.actor,
      action: 'org.create',
      entityType: 'org',
      entityId: org.id,
      before: null,
      after: org,
    });
    return org;
  });
}

export async function findOrgBySlug(db: Db, params: { slug: string }): Promise<Org | undefined> {
  const [org] = await db.select(orgColumns).from(orgs).where(eq(orgs.slug, params.slug)).limit(1);
  return org;
}

/** Whether the org is the platform operator's own: its admins may change platform-wide settings such as clusters. */
export async function isPlatformOrg(db: Db, params: { orgId: string }): Promise<boolean> {
  const [row] = await db.select({ platform: orgs.platform }).from(orgs).where(eq(orgs.id, params.orgId)).limit(1);
  return row?.platform === true;
}

/** Makes the org the platform org (at most one: the previous one loses the flag), audited. For operators (CLI) only. */
export async function setPlatformOrg(
  db: Db,
  params: { orgId: string; actor: string },
): Promise<{ previousOrgId: string | null }> {
  return db.transaction(async (tx) => {
    const [previous] = await tx
      .select({ id: orgs.id })
      .from(orgs)
      .where(eq(orgs.platform, true))
      .for('update')
      .limit(1);
    if (previous?.id === params.orgId) return { previousOrgId: previous.id };
    if (previous !== undefined) await tx.update(orgs).set({ platform: false }).where(eq(orgs.id, previous.id));
    const [updated] = await tx
      .update(orgs)
      .set({ platform: true })
      .where(eq(orgs.id, params.orgId))
      .returning({ id: orgs.id });
    if (updated === undefined) throw new NotFoundError(`No org ${params.orgId}.`);
    await writeAudit(tx, {
      orgId: params.orgId,
      actor: params.actor,
      action: 'org.set_platform',
      entityType: 'org',
      entityId: params.orgId,
      before: { platformOrgId: previous?.id ?? null },
      after: { platformOrgId: params.orgId },
    });
    return { previousOrgId: previous?.id ?? null };
  });
}

/** Whether the org's low and normal priority requests prefer the cleanest cluster serving their model; undefined for no such org. */
export async function findCarbonAwareRouting(db: Db, params: { orgId: string }): Promise<boolean | undefined> {
  const [org] = await db
    .select({ enabled: orgs.carbonAwareRouting })
    .from(orgs)
    .where(eq(orgs.id, params.orgId))
    .limit(1);
  return org?.enabled;
}

/**
 * Turns carbon-aware routing of the org's low and normal priority requests on or off, audited with
 * the setting before and after. Gateways apply it within their key cache TTL (at most 1 s): the
 * principal carries it.
 */
export async function setCarbonAwareRouting(
  db: Db,
  params: { orgId: string; enabled: boolean; actor: string },
): Promise<{ orgId: string; enabled: boolean; previous: boolean }> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ enabled: orgs.carbonAwareRouting })
      .from(orgs)
      .where(eq(orgs.id, params.orgId))
      .for('update')
      .limit(1);
    if (before === undefined) throw new NotFoundError(`No org ${params.orgId}.`);
    if (before.enabled !== params.enabled) {
      await tx.update(orgs).set({ carbonAwareRouting: params.enabled }).where(eq(orgs.id, params.orgId));
      await writeAudit(tx, {
        orgId: params.orgId,
        actor: params.actor,
        action: 'org.set_carbon_aware_routing',
        entityType: 'org',
        entityId: params.orgId,
        before: { carbonAwareRouting: before.enabled },
        after: { carbonAwareRouting: params.enabled },
      });
    }
    return { orgId: params.orgId, enabled: params.enabled, previous: before.enabled };
  });
}

/** The org's IANA time zone (months and periods are counted in it), or undefined for no such org. */
export async function findOrgTimeZone(db: Db, params: { orgId: string }): Promise<string | undefined> {
  const [org] = await db.select({ timeZone: orgs.timeZone }).from(orgs).where(eq(orgs.id, params.orgId)).limit(1);
  return org?.timeZone;
}

/** The org's slug (what operators type), or undefined for no such org. */
export async function findOrgSlug(db: Db, params: { orgId: string }): Promise<string | undefined> {
  const [org] = await db.select({ slug: orgs.slug }).from(orgs).where(eq(orgs.id, params.orgId)).limit(1);
  return org?.slug;
}
