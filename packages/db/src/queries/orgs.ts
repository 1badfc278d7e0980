import { parseWith, slugSchema, timeZoneSchema } from '@tokenwise/core';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../client';
import { orgs } from '../schema/index';
import { writeAudit } from './audit';

const orgColumns = { id: orgs.id, slug: orgs.slug, name: orgs.name, timeZone: orgs.timeZone, createdAt: orgs.createdAt };
export type Org = { id: string; slug: string; name: string; timeZone: string; createdAt: Date };

export const createOrgInput = z.object({
  slug: slugSchema,
  name: z.string().trim().min(1).max(120),
  timeZone: timeZoneSchema.default('UTC'),
});

/** Creates an org and its audit row in one transaction. */
export async function createOrg(db: Db, params: { actor: string; input: z.input<typeof createOrgInput> }): Promise<Org> {
  const input = parseWith(createOrgInput, params.input, 'org');
  return db.transaction(async (tx) => {
    const [org] = await tx.insert(orgs).values(input).returning(orgColumns);
    if (org === undefined) throw new Error('insert into orgs returned no row');
    await writeAudit(tx, { orgId: org.id, actor: params.actor, action: 'org.create', entityType: 'org', entityId: org.id, before: null, after: org });
    return org;
  });
}

export async function findOrgBySlug(db: Db, params: { slug: string }): Promise<Org | undefined> {
  const [org] = await db.select(orgColumns).from(orgs).where(eq(orgs.slug, params.slug)).limit(1);
  return org;
}
