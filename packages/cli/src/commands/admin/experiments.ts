import { NotFoundError } from '@tokenwise/core';
import { findUserByEmail } from '@tokenwise/db';
import { createExperimentsServiceKey } from '@tokenwise/control';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { optionalCount, optionalText, text } from './option-values';

/** `experiments service-key create`: the key an experimentation platform submits A/B results with. */
export const experimentCommands: AdminCommandSpecs = {
  'experiments service-key create': {
    summary:
      'create a service key for an experimentation platform (scope experiments alone); prints the key and its webhook secret once',
    options: [
      orgOption,
      {
        name: 'admin',
        value: 'email',
        required: true,
        description: 'the admin of the org it is created for: their own tagged requests never count as its evidence',
      },
      { name: 'name', value: 'name', description: "the key's name (default: experiments platform)" },
      { name: 'expires-in-days', value: 'days', description: 'it stops working after this many days' },
    ],
    async run({ database, keyPepper }, options, actor) {
      const org = await orgOf(database.db, options);
      const email = text(options, 'admin');
      const admin = await findUserByEmail(database.db, { orgId: org.id, email });
      if (admin === undefined) throw new NotFoundError(`No user ${email} in org ${org.slug}.`);
      const days = optionalCount(options, 'expires-in-days', 3_650);
      const { key, secret, webhookSecret } = await createExperimentsServiceKey(database.db, {
        pepper: keyPepper,
        orgId: org.id,
        adminUserId: admin.id,
        name: optionalText(options, 'name') ?? 'experiments platform',
        expiresAt: days === undefined ? null : new Date(Date.now() + days * 86_400_000),
        actor,
      });
      const expiry = key.expiresAt === null ? 'never expires' : `expires ${new Date(key.expiresAt).toISOString()}`;
      return {
        text: [
          `Created service key ${key.id} "${key.name}" for org ${org.slug}: scope experiments only (experiments.submitResults, experiments.results), submitter ${email}, ${expiry}.`,
          `\n  API key (Authorization: Bearer ...):\n\n  ${secret}\n`,
          `  Webhook signing secret (POST /webhooks/experiments with x-tokenwise-key-id: ${key.id}):\n\n  ${webhookSecret}\n`,
          'Store both now: this is the only time they are shown. `tokenwise keys rotate --id ID` replaces both; `tokenwise keys revoke --id ID` ends both.',
        ].join('\n'),
        data: { key, secret, webhookSecret },
      };
    },
  },
};
