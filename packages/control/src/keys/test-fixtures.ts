import { createOrg, createTeam, createUser, type Db } from '@tokenwise/db';
import { randomBytes } from 'node:crypto';

export const testPepper = randomBytes(32);

/** An org with one team and one employee in it, under fresh slugs. */
export async function orgWithUser(db: Db) {
  const slug = `o-${randomBytes(4).toString('hex')}`;
  const org = await createOrg(db, { actor: 'test', input: { slug, name: 'Org' } });
  const team = await createTeam(db, { actor: 'test', input: { orgId: org.id, slug: 'eng', name: 'Engineering' } });
  const user = await createUser(db, {
    actor: 'test',
    input: { orgId: org.id, teamId: team.id, email: `alice@${slug}.test`, displayName: 'Alice' },
  });
  return { org, team, user };
}

/** `Bearer <key>` */
export const bearer = (key: string) => `Bearer ${key}`;
