import Ajv from 'ajv';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSlackConfig } from '@tokenwise/slack';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatewayNodeFlags } from '@tokenwise/gateway';
import { envSchema, loadConfig } from './config';
import { commandNames } from './main';

const root = new URL('../../../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', root), 'utf8');
/** The file as Compose reads it: anchors and `<<` merge keys resolved. */
const compose = parse(composeText, { merge: true }) as {
  services: Record<
    string,
    {
      command?: string[];
      build?: { dockerfile_inline?: string };
      environment?: Record<string, string>;
      env_file?: { path: string; required?: boolean }[];
      deploy?: { replicas?: number; resources?: unknown };
      restart?: string;
      profiles?: string[];
    }
  >;
};
const schema = JSON.parse(
  readFileSync(new URL('../test-fixtures/compose-spec.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** What `docker compose` substitutes for ${VAR}, ${VAR:-default} and ${VAR:?message}: here, sample values. */
function interpolate(value: string, variables: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}/g,
    (_, name: string, fallback: string | undefined) => variables[name] ?? fallback ?? '',
  );
}

/** A service's environment as its container sees it, with a sample POSTGRES_PASSWORD. */
function environmentOf(environment: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment ?? {}).map(([key, value]) => [
      key,
      interpolate(String(value), { POSTGRES_PASSWORD: 'sample-password' }),
    ]),
  );
}

const gatewayBundle = ['node', ...gatewayNodeFlags, 'packages/cli/dist/gateway.mjs'].join(' ');
const tokenwiseServices = Object.entries(compose.services).filter(
  ([, service]) =>
    service.command?.slice(0, 2).join(' ') === 'npx tokenwise' || service.command?.join(' ') === gatewayBundle,
);

describe('docker-compose.yml, the production topology', () => {
  it('is valid against the Compose Specification schema', () => {
    // The fixture's $schema names draft-07 by an https URL that ajv's bundled draft-07 does not carry.
    const { $schema: _draft, ...compiled } = schema;
    const ajv = new Ajv({ allErrors: true, validateSchema: false });
    const validate = ajv.compile(compiled);
    const valid = validate(compose);
    expect(ajv.errorsText(validate.errors, { separator: '\n' })).toBe('No errors');
    expect(valid).toBe(true);
    // The schema has teeth: replicas belong under deploy, not on the service.
    expect(validate({ services: { gateway: { image: 'x', replicas: 2 } } })).toBe(false);
  });

  it('has postgres, temporal with its UI, vllm on a GPU with priority scheduling, two gateways, worker, api and slack', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'vllm', 'gateway', 'worker', 'api', 'slack']),
    );
    const vllm = compose.services.vllm;
    expect(vllm?.command?.join(' ')).toContain('--scheduling-policy priority');
    expect(vllm?.deploy?.resources).toMatchObject({
      reservations: { devices: [{ driver: 'nvidia', capabilities: ['gpu'] }] },
    });
    expect(compose.services.gateway?.deploy?.replicas).toBe(2);
    expect(tokenwiseServices.map(([name, service]) => `${name}: ${service.command?.join(' ')}`)).toEqual([
      'migrate: npx tokenwise migrate',
      `gateway: ${gatewayBundle}`,
      'worker: npx tokenwise worker',
      'api: npx tokenwise api',
      'slack: npx tokenwise slack',
    ]);
  });

  it('runs in every tokenwise service a command that the tokenwise CLI knows', () => {
    for (const [name, service] of tokenwiseServices) {
      // The gateway's bundle runs `tokenwise gateway` (packages/cli/src/gateway-main.ts), built in the image.
      if (service.command?.join(' ') === gatewayBundle) {
        expect(service.build?.dockerfile_inline, 'the image builds the gateway bundle').toContain('RUN npm run build');
        continue;
      }
      const [, , command, ...rest] = service.command ?? [];
      expect(commandNames, `${name} runs "tokenwise ${command}"`).toContain(command);
      expect(rest, `${name} passes no arguments the CLI would refuse`).toEqual([]);
    }
  });

  it('runs the Slack bot with `up`, bound to an org, reachable on its port, and out of an endless restart loop when unconfigured', () => {
    expect(compose.services.slack?.profiles).toBeUndefined();
    expect(compose.services.slack).toMatchObject({ restart: 'on-failure:3', ports: ['3002:3002'] });
    expect(environmentOf(compose.services.slack?.environment)).toMatchObject({
      TOKENWISE_SLACK_PORT: '3002',
      TOKENWISE_SLACK_HOST: '0.0.0.0',
    });
  });

  it('lets containers reach the gateway and API, and the worker reach a gateway', () => {
    const configOf = (name: string) =>
      loadConfig(environmentOf(compose.services[name]?.environment), fileURLToPath(root));
    expect(configOf('gateway')).toMatchObject({ gatewayHost: '0.0.0.0', gatewayPort: 4000 });
    expect(configOf('api')).toMatchObject({ apiHost: '0.0.0.0', apiPort: 3000 });
    expect(configOf('worker').gatewayUrl).toBe('http://gateway:4000');
  });

  it('gives every tokenwise service an environment that the configuration schema accepts, with secrets from an env_file', () => {
    const known = new Set(Object.keys(envSchema.shape));
    // The Slack bot's own settings, read by @tokenwise/slack's loadSlackConfig.
    const slackSettings = ['TOKENWISE_SLACK_ORG', 'TOKENWISE_SLACK_PORT', 'TOKENWISE_SLACK_HOST'];
    const secrets = {
      TOKENWISE_LEDGER_KEY: randomBytes(32).toString('hex'),
      TOKENWISE_KEY_PEPPER: randomBytes(32).toString('hex'),
    };
    for (const [name, service] of tokenwiseServices) {
      const environment = environmentOf(service.environment);
      const unknown = Object.keys(environment).filter(
        (key) => !known.has(key) && !(name === 'slack' && slackSettings.includes(key)),
      );
      expect(unknown, `${name} sets variables the configuration does not know`).toEqual([]);
      for (const key of Object.keys(secrets))
        expect(environment[key], `${name} must not inline ${key}`).toBeUndefined();
      expect(service.env_file, `${name} reads secrets from tokenwise.secrets.env`).toEqual([
        { path: './tokenwise.secrets.env', required: true },
      ]);
      const config = loadConfig({ ...environment, ...secrets }, fileURLToPath(root));
      expect(config, name).toMatchObject({
        databaseUrl: 'postgres://tokenwise:sample-password@postgres:5432/tokenwise',
        temporalAddress: 'temporal:7233',
        vllmUrl: 'http://vllm:8000',
        vllmPriorityScheduling: true,
      });
      expect(config.ledgerKey?.length).toBe(32);
    }
    const slack = environmentOf(compose.services.slack?.environment);
    expect(
      loadSlackConfig({ ...slack, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' }, { gatewayPort: 4000 }),
    ).toMatchObject({
      transport: { kind: 'http', port: 3002, host: '0.0.0.0' },
      orgSlug: 'demo',
    });
  });
});
