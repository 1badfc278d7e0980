import { NotFoundError, ValidationError } from '@tokenwise/core';
import { createUser, findTeamBySlug } from '@tokenwise/db';
import { roles } from '@tokenwise/db/schema';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { optionalText, text } from './option-values';

/** `user create`. */
export const userCommands: AdminCommandSpecs = {
  'user create': {
    summary: 'create a user in an org',
    options: [
      orgOption,
      { name: 'email', value: 'email', required: true, description: 'their email, which other commands name them by' },
      { name: 'name', value: 'name', required: true, description: 'their display name' },
      { name: 'team', value: 'slug', description: 'the team they join' },
      { name: 'roles', value: 'list', description: `comma-separated, from ${roles.join(', ')} (default employee)` },
    ],
    async run({ database }, options, actor) {
      const org = await orgOf(database.db, options);
      const teamSlug = optionalText(options, 'team');
      const team =
        teamSlug === undefined ? undefined : await findTeamBySlug(database.db, { orgId: org.id, slug: teamSlug });
      if (teamSlug !== undefined && team === undefined)
        throw new NotFoundError(`No team ${teamSlug} in org ${org.slug}.`);
      const roleList = (optionalText(options, 'roles') ?? 'employee').split(',').map((role) => role.trim());
      const unknown = roleList.filter((role) => !(roles as readonly string[]).includes(role));
      if (unknown.length > 0)
        throw new ValidationError(`Unknown role(s) ${unknown.join(', ')}: use ${roles.join(', ')}.`);
      const user = await createUser(database.db, {
        actor,
        input: {
          orgId: org.id,
          teamId: team?.id ?? null,
          email: text(options, 'email'),
          displayName: text(options, 'name'),
          roles: roleList as (typeof roles)[number][],
        },
      });
      return {
        text: `Created user ${user.email} in ${org.slug} (${user.id}), roles ${user.roles.join(', ')}.`,
        data: user,
      };
    },
  },
};
