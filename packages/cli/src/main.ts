import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runApiCommand } from './commands/api';
import { runDev } from './commands/dev';
import { runGatewayCommand } from './commands/gateway';
import { runSlackCommand } from './commands/slack';
import { runWorkerCommand } from './commands/worker';
import { adminCommands } from './commands/admin/index';
import { runDoctor } from './commands/doctor';
import { runAdminCommand } from './commands/run-admin-command';
import { runMigrate } from './commands/migrate';
import { runProvision } from './commands/provision';
import { reportError } from './report-error';
import { UsageError } from './usage-error';

export const usage = `Usage: tokenwise <command> [options]

Commands:
  dev                  run the platform on this machine (what \`npm start\` runs)
  gateway              the metering gateway alone (DATABASE_URL; VLLM_URL or TOKENWISE_CLUSTERS_FILE,
                       or --simulated-cluster); also releases lapsed holds. SIGTERM drains, then exits
  worker               the Temporal worker, scoring plugins, outbox relay and reconcile Schedule
                       (DATABASE_URL, TEMPORAL_ADDRESS, TOKENWISE_GATEWAY_URL)
  api                  the tRPC API alone (DATABASE_URL; TOKENWISE_API_PORT, TOKENWISE_API_HOST)
  slack                the Slack bot: not part of this build yet (exits 1)
  migrate              apply pending database migrations
  doctor               report what is installed and running
  provision            install the pinned Temporal CLI (and, with --for-tests, check PostgreSQL)
  org create           --slug S --name N [--time-zone Europe/Berlin]
  team create          --org S --slug S --name N
  user create          --org S --email E --name N [--team S] [--roles employee,lead,esg,admin]
  grant                --org S [--user E | --team S] --amount 12.5 [--currency innovation]
                       --reason R [--id KEY] | --monthly (this month's allowance, once)
  balance              --org S [--user E | --team S]
  judge-budget set     --org S --amount 100 [--currency innovation]  (the org's judge wallet is funded with it
                       each month from the org's issuance; this month's at once; 0 removes it)
  judge-budget show    --org S  (monthly budget and what the judge wallet holds)
  history              --org S [--user E | --team S] [--currency C] [--limit 20]
  ledger verify        check the journal, accounts and checkpoint against their MACs: names edited, deleted,
                       inserted or truncated rows and a checkpoint that went backwards (exits 1 if any)
  ledger seal-accounts once after upgrading: seal accounts opened before account MACs (lists each)
                       and export the chain head as a sealed checkpoint
  keys create          --org S (--user E | --system OWNER) [--name N] [--scopes inference,api]
                       [--models a,b] [--rpm N] [--tpm N] [--expires-in-days N]
                       prints the key once: it is never shown again
  keys list            --org S [--user E]  (ids, owners, scopes, limits, status; never secrets)
  keys revoke          --id ID [--cascade]  (every gateway refuses the key within a second; --cascade:
                       also every key created from it through the API, and from those)
  keys rotate          --id ID [--overlap-seconds 3600]  (a new key; the old one works for the overlap)
  prices publish       --file prices.json [--org S]  (validated, stored as the next version; gateways use it
                       within seconds; without --org: the platform default every org without its own pays by)
  prices show          [--org S]  the platform default, or the list the org pays by
  org set-platform     --org S  (the one org whose admins may change clusters through the API)
  org set-grant-bounds --org S --per-grant 1000 --per-month 100000 [--currency innovation]  (the most one
                       grant and one month of the org's issuance may be, in its time zone; operators only)
  org grant-bounds     --org S [--currency C]  (the bounds, and what the org issued and has left this month)
  clusters list        every cluster: models, replicas with health, region, gCO2e/kWh, PUE, state
  clusters set-carbon  --cluster N --grid-intensity G --pue P|default [--region R]  (kept over the config)
  clusters disable     --cluster N [--replica R]  (no new requests within seconds; \`clusters enable\` undoes)
  clusters add         --file cluster.json  (served by every gateway within seconds; \`clusters remove
                       --cluster N\` once disabled)
  clusters add-replica --cluster N --replica R --url U  (clusters added through the API; also remove-replica)
  usage                --org S [--user E] [--limit 20]  (recent requests, newest first: tokens, cost, gCO2e)
  reconcile            [--older-than-minutes 21]  void the holds of requests that never completed
                       (older than the gateway's request timeout) and release lapsed holds
  scoring set          --org S --team T --file scoring.json  ([{ pluginId, weight, config }], each config
                       checked by its plugin's schema; stored as the team's next version)
  scoring show         --org S --team T  (the team's current scoring plugins, weights and configs)
  policy set           --org S --team T --file policy.json  (the team's next settlement-policy version;
                       warns when it goes beyond the org's bounds, which settlements enforce)
  policy show          --org S --team T  (version, refunds, reward and any bound it exceeds)
  bounds set           --org S --file bounds.json  ({ maxRefundShareBps, maxRewardPerRequest, maxRewardPerUserPerMonth } for the org)
  bounds show          --org S

Options:
  -h, --help           show this help
  --json               print data as JSON (doctor and the commands above)
  --for-tests          (provision) also provision what \`npm test\` needs
  --simulated-cluster  (gateway) serve a simulated vLLM cluster: for trials, never production

Configuration comes from tokenwise.config.json (or the file named by TOKENWISE_CONFIG) under
environment overrides: TOKENWISE_DATA_DIR (default .tokenwise),
DATABASE_URL (a PostgreSQL server; PGlite under the data dir when unset), TEMPORAL_ADDRESS
(an existing Temporal server; a local dev server when unset), TEMPORAL_NAMESPACE, TEMPORAL_UI_PORT,
TOKENWISE_GATEWAY_PORT (default 4000), TOKENWISE_GATEWAY_HOST and TOKENWISE_API_HOST (default
127.0.0.1; 0.0.0.0 in a container), TOKENWISE_API_PORT (default the gateway port + 1),
TOKENWISE_GATEWAY_URL (where the worker reaches a gateway), VLLM_URL, TOKENWISE_CLUSTERS_FILE,
VLLM_PRIORITY_SCHEDULING, TOKENWISE_LEDGER_KEY and TOKENWISE_KEY_PEPPER (hex, 32+ bytes; else
kept under the data dir). gateway, worker and api need DATABASE_URL: PGlite serves one process.`;

type Command = (options: { json: boolean; forTests: boolean; simulatedCluster: boolean }) => Promise<number>;

const commands: Record<string, Command> = {
  dev: () => runDev(),
  gateway: (options) => runGatewayCommand(options),
  worker: () => runWorkerCommand(),
  api: () => runApiCommand(),
  slack: () => runSlackCommand(),
  migrate: () => runMigrate(),
  doctor: (options) => runDoctor(options),
  provision: (options) => runProvision(options),
};

/** Every command name `tokenwise <name>` runs, admin commands included (first word). */
export const commandNames: readonly string[] = [
  ...Object.keys(commands),
  ...new Set(Object.keys(adminCommands).map((name) => name.split(' ')[0] as string)),
];

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        'for-tests': { type: 'boolean' },
        'simulated-cluster': { type: 'boolean' },
        monthly: { type: 'boolean' },
        cascade: { type: 'boolean' },
        ...Object.fromEntries(
          [
            'org',
            'team',
            'user',
            'slug',
            'name',
            'email',
            'roles',
            'time-zone',
            'amount',
            'currency',
            'reason',
            'id',
            'limit',
            'system',
            'scopes',
            'models',
            'rpm',
            'tpm',
            'expires-in-days',
            'overlap-seconds',
            'file',
            'older-than-minutes',
            'cluster',
            'replica',
            'url',
            'grid-intensity',
            'pue',
            'region',
            'per-grant',
            'per-month',
          ].map((key) => [key, { type: 'string' as const }]),
        ),
      },
    });
    const [name, ...extra] = positionals;
    const adminName = [`${name} ${extra[0] ?? ''}`, name].find(
      (candidate) => candidate !== undefined && candidate in adminCommands,
    );
    if (adminName !== undefined && !values.help) {
      const rest = extra.slice(adminName.includes(' ') ? 1 : 0);
      if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}" after "${adminName}".`);
      // The platform process may read the file, from another working directory.
      const file = (values as { file?: string }).file;
      return await runAdminCommand(adminName, file === undefined ? values : { ...values, file: resolve(file) });
    }
    if (values.help || name === 'help') {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (name === undefined) throw new UsageError('No command given.');
    const command = commands[name];
    if (command === undefined)
      throw new UsageError(`Unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}.`);
    if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}" after "${name}".`);
    return await command({
      json: values.json ?? false,
      forTests: values['for-tests'] ?? false,
      simulatedCluster: values['simulated-cluster'] ?? false,
    });
  } catch (error) {
    return reportError(error, usage);
  }
}
