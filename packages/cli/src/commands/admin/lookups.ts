import { NotFoundError } from '@tokenwise/core';
import { findOrgBySlug, findTeamBySlug, findUserByEmail, type Db, type Org, type Team } from '@tokenwise/db';
import type { OptionSpec } from '../../command-spec';
import { UsageError } from '../../usage-error';
import type { CommandOptions } from './admin-command';
import { optionalText, text } from './option-values';

/** `--org`, which {@link orgOf} reads: most commands act within one org. */
export const orgOption: OptionSpec = { name: 'org', value: 'slug', required: true, description: 'the org' };

/** `--user` and `--team`, which {@link ownerOf} reads: whose wallet, the org's own when neither is given. */
export const ownerOptions: readonly OptionSpec[] = [
  { name: 'user', value: 'email', description: "a user's wallet (not with --team)" },
  { name: 'team', value: 'slug', description: "a team's wallet (not with --user)" },
];

/** `--org` and `--team`, which {@link teamOf} reads. */
export const teamOptions: readonly OptionSpec[] = [orgOption, { ...orgOption, name: 'team', description: 'the team' }];

/** The org named by --org. */
export async function orgOf(db: Db, options: CommandOptions): Promise<Org> {
  const slug = text(options, 'org');
  const org = await findOrgBySlug(db, { slug });
  if (org === undefined)
    throw new NotFoundError(`No org "${slug}". Create it with \`tokenwise org create --slug ${slug} --name ...\`.`);
  return org;
}

/** The wallet owner named by --user (email), --team (slug), or the org itself when neither is given. */
export async function ownerOf(db: Db, options: CommandOptions) {
  const org = await orgOf(db, options);
  const email = optionalText(options, 'user');
  const teamSlug = optionalText(options, 'team');
  if (email !== undefined && teamSlug !== undefined) throw new UsageError('Give --user or --team, not both.');
  if (email !== undefined) {
    const user = await findUserByEmail(db, { orgId: org.id, email });
    if (user === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
    return { org, ownerType: 'user' as const, ownerId: user.id, label: `${email} (${org.slug})` };
  }
  if (teamSlug !== undefined) {
    const team = await findTeamBySlug(db, { orgId: org.id, slug: teamSlug });
    if (team === undefined) throw new NotFoundError(`No team ${teamSlug} in org ${org.slug}.`);
    return { org, ownerType: 'team' as const, ownerId: team.id, label: `team ${teamSlug} (${org.slug})` };
  }
  return { org, ownerType: 'org' as const, ownerId: org.id, label: `org ${org.slug}` };
}

/** The team named by --team in the org named by --org. */
export async function teamOf(db: Db, options: CommandOptions): Promise<{ org: Org; team: Team; label: string }> {
  const org = await orgOf(db, options);
  const slug = text(options, 'team');
  const team = await findTeamBySlug(db, { orgId: org.id, slug });
  if (team === undefined) throw new NotFoundError(`No team ${slug} in org ${org.slug}.`);
  return { org, team, label: `team ${team.slug} (${org.slug})` };
}
