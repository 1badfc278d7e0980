import { createTeam } from '@tokenwise/db';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { text } from './option-values';

/** `team create`. */
export const teamCommands: AdminCommandSpecs = {
  'team create': {
    summary: 'create a team in an org',
    options: [
      orgOption,
      { name: 'slug', value: 'slug', required: true, description: "the team's slug (users join with --team)" },
      { name: 'name', value: 'name', required: true, description: 'its display name' },
    ],
    async run({ database }, options, actor) {
      const org = await orgOf(database.db, options);
      const team = await createTeam(database.db, {
        actor,
        input: { orgId: org.id, slug: text(options, 'slug'), name: text(options, 'name') },
      });
      return { text: `Created team ${team.slug} in ${org.slug} (${team.id}).`, data: team };
    },
  },
};
