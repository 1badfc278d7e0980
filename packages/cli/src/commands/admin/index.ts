import type { OptionSpec } from '../../command-spec';
import type { AdminCommand, AdminCommandSpec, AdminCommandSpecs } from './admin-command';
import { boundsCommands } from './bounds';
import { carbonCapCommands } from './carbon-caps';
import { carbonRaiseCommands } from './carbon-raises';
import { carbonReportCommands } from './carbon-report';
import { clusterCommands } from './clusters';
import { experimentCommands } from './experiments';
import { githubCommands } from './github';
import { judgeBudgetCommands } from './judge-budget';
import { keyCommands } from './keys';
import { ledgerCommands } from './ledger';
import { orgCommands } from './orgs';
import { policyCommands } from './policy';
import { priceCommands } from './prices';
import { reconcileCommands } from './reconcile';
import { scoringCommands } from './scoring';
import { teamCommands } from './teams';
import { usageCommands } from './usage';
import { userCommands } from './users';
import { walletCommands } from './wallets';

export type { AdminCommand, AdminCommandSpec, CommandOptions, CommandOutput } from './admin-command';

/** Every admin command prints its data as JSON on request: run-admin-command reads it, the command never does. */
const jsonOption: OptionSpec = { name: 'json', description: 'print the data as JSON' };

/** Every admin command with its help and options, in the order `tokenwise --help` lists them. */
export const adminCommandSpecs: AdminCommandSpecs = Object.fromEntries(
  Object.entries({
    ...orgCommands,
    ...teamCommands,
    ...userCommands,
    ...walletCommands,
    ...judgeBudgetCommands,
    ...keyCommands,
    ...experimentCommands,
    ...githubCommands,
    ...priceCommands,
    ...clusterCommands,
    ...usageCommands,
    ...reconcileCommands,
    ...ledgerCommands,
    ...scoringCommands,
    ...policyCommands,
    ...boundsCommands,
    ...carbonCapCommands,
    ...carbonRaiseCommands,
    ...carbonReportCommands,
  }).map(([name, spec]): [string, AdminCommandSpec] => [name, { ...spec, options: [...spec.options, jsonOption] }]),
);

/** The admin commands by name (`keys create`): what the CLI and the platform's control server run. */
export const adminCommands: Record<string, AdminCommand> = Object.fromEntries(
  Object.entries(adminCommandSpecs).map(([name, spec]) => [name, spec.run]),
);

/** What `tokenwise <group> --help` says a command group is for. */
export const adminGroups: Record<string, string> = {
  org: 'orgs: create one, choose the platform org, bound what an org may issue',
  team: 'teams within an org',
  user: 'users within an org',
  'judge-budget': "the monthly budget that funds an org's judge wallet",
  keys: 'API keys: create, list, revoke, rotate',
  experiments: 'A/B results: the service key an experimentation platform submits them with',
  'experiments service-key': 'service keys with the experiments scope (rotate and revoke them with keys ...)',
  github: "commit linkage: users' GitHub logins, and under npm start a merged pull request played on the local GitHub",
  prices: 'the versioned price lists requests are charged by',
  clusters: 'the inference clusters every gateway routes to',
  ledger: "the journal's tamper evidence",
  scoring: "which plugins score a team's requests, and their weights",
  policy: "how a team's requests are refunded and rewarded by their score",
  bounds: 'the most any team policy of an org may refund or reward',
  carbon: 'green budgets: carbon caps, raises and emission reports',
  'carbon cap': 'the carbon caps of an org, its teams and users',
};
