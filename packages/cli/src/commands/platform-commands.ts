import type { CommandOptions, CommandSpec } from '../command-spec';
import { runApiCommand } from './api';
import { runDev } from './dev';
import { runDoctor } from './doctor';
import { runGatewayCommand } from './gateway';
import { runMigrate } from './migrate';
import { runProvision } from './provision';
import { runSlackCommand } from './slack';
import { runWorkerCommand } from './worker';

/** A command that runs or sets up the platform itself; resolves with the exit code. */
export interface PlatformCommandSpec extends CommandSpec {
  run(options: CommandOptions): Promise<number>;
}

/** The commands that run a service or set the platform up, in the order `tokenwise --help` lists them. */
export const platformCommandSpecs: Record<string, PlatformCommandSpec> = {
  dev: {
    summary: 'run the platform on this machine (what `npm start` runs)',
    options: [],
    run: () => runDev(),
  },
  gateway: {
    summary:
      'the metering gateway alone (DATABASE_URL; VLLM_URL or TOKENWISE_CLUSTERS_FILE, or --simulated-cluster); also releases lapsed holds. SIGTERM drains, then exits',
    options: [
      { name: 'simulated-cluster', description: 'serve a simulated vLLM cluster: for trials, never production' },
    ],
    run: (options) => runGatewayCommand({ simulatedCluster: options['simulated-cluster'] === true }),
  },
  worker: {
    summary:
      'the Temporal worker, scoring plugins, outbox relay and reconcile Schedule (DATABASE_URL, TEMPORAL_ADDRESS, TOKENWISE_GATEWAY_URL)',
    options: [],
    run: () => runWorkerCommand(),
  },
  api: {
    summary: 'the tRPC API alone (DATABASE_URL; TOKENWISE_API_PORT, TOKENWISE_API_HOST)',
    options: [],
    run: () => runApiCommand(),
  },
  slack: {
    summary:
      'the Slack bot (DATABASE_URL; SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode; TOKENWISE_SLACK_ORG; TOKENWISE_SLACK_PORT)',
    options: [],
    run: () => runSlackCommand(),
  },
  migrate: {
    summary: 'apply pending database migrations',
    options: [],
    run: () => runMigrate(),
  },
  doctor: {
    summary: 'report what is installed and running',
    options: [{ name: 'json', description: 'print the report as JSON' }],
    run: (options) => runDoctor({ json: options.json === true }),
  },
  provision: {
    summary: 'install the pinned Temporal CLI (and, with --for-tests, check PostgreSQL)',
    options: [{ name: 'for-tests', description: 'also provision what `npm test` needs' }],
    run: (options) => runProvision({ forTests: options['for-tests'] === true }),
  },
};
