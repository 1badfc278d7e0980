import { Connection } from '@temporalio/client';
import { ConflictError } from '@tokenwise/core';
import { migrationState } from '@tokenwise/db';
import { orgSecretsFromEnv, secretVariablePrefix } from '@tokenwise/plugin-sdk';
import { loadConfig, type Config } from '../config';
import { openPrivateDatabase } from '../local/open-private-database';
import {
  findPostgresBinDir,
  postgresInstallHint,
  ensureTemporalCli,
  ensureTemporalTestServer,
  temporalCliVersion,
  runCommand,
} from '@tokenwise/devtools';
import { dataDirEntriesMax, describeLoosePaths, findLoosePaths } from '../local/private-data-dir';
import { readRunInfo } from '../run-file';
import { checkCarbonProfiles } from './doctor-carbon';

type Status = 'ok' | 'warn' | 'fail';
export interface Check {
  name: string;
  status: Status;
  detail: string;
}

const nodeVersionMin = [20, 19] as const;

function checkNode(): Check {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > nodeVersionMin[0] || (major === nodeVersionMin[0] && minor >= nodeVersionMin[1]);
  return {
    name: 'Node.js',
    status: ok ? 'ok' : 'fail',
    detail: ok
      ? `v${process.versions.node}`
      : `v${process.versions.node}; Tokenwise needs >= ${nodeVersionMin.join('.')}`,
  };
}

async function checkTemporalCli(): Promise<Check> {
  try {
    const cli = await ensureTemporalCli({ install: false });
    const trust =
      cli.source === 'env'
        ? 'TEMPORAL_CLI, not checked'
        : cli.source === 'path'
          ? 'on PATH, pinned version'
          : 'sha256 checked';
    return {
      name: 'Temporal CLI',
      status: 'ok',
      detail: `${cli.path} (${trust}), ${await temporalCliVersion(cli.path)}`,
    };
  } catch (error) {
    return {
      name: 'Temporal CLI',
      status: 'warn',
      detail: `${(error as Error).message} (\`npm start\` and \`npm test\` install it)`,
    };
  }
}

async function checkTestServer(): Promise<Check> {
  try {
    const server = await ensureTemporalTestServer({ install: false });
    return {
      name: 'Temporal test server',
      status: 'ok',
      detail: `${server.path} (${server.source === 'env' ? 'TEMPORAL_TEST_SERVER, not checked' : 'sha256 checked'})`,
    };
  } catch (error) {
    return { name: 'Temporal test server', status: 'warn', detail: (error as Error).message };
  }
}

async function checkPostgresBinaries(config: Config): Promise<Check> {
  const binDir = await findPostgresBinDir();
  if (binDir === undefined) {
    return {
      name: 'PostgreSQL server',
      status: config.databaseUrl ? 'ok' : 'warn',
      detail: config.databaseUrl
        ? 'not installed; DATABASE_URL is used'
        : `${postgresInstallHint} (only the tests need it)`,
    };
  }
  const version = (await runCommand(`${binDir}/postgres`, ['--version'])).stdout.trim();
  return { name: 'PostgreSQL server', status: 'ok', detail: `${version} in ${binDir}` };
}

/** The database, and what only it can tell: models metered without a carbon profile. */
async function checkDatabase(config: Config): Promise<Check[]> {
  let database;
  try {
    database = await openPrivateDatabase(config);
  } catch (error) {
    if (error instanceof ConflictError)
      return [
        { name: 'Database', status: 'ok', detail: `PGlite at ${config.pgliteDir}, open in the running platform` },
        {
          name: 'Carbon profiles',
          status: 'ok',
          detail: 'not checked while the platform holds the database; run doctor again when it is stopped',
        },
      ];
    return [{ name: 'Database', status: 'fail', detail: (error as Error).message }];
  }
  try {
    const state = await migrationState(database.db);
    const pending =
      state.pending.length === 0
        ? 'none pending'
        : `${state.pending.length} pending (${state.pending.join(', ')}): run \`tokenwise migrate\``;
    const checked: Check = {
      name: 'Database',
      status: state.pending.length === 0 ? 'ok' : 'warn',
      detail: `${database.backend} at ${database.location}; migrations: ${state.applied}/${state.available.length} applied, ${pending}`,
    };
    return state.pending.length === 0 ? [checked, await checkCarbonProfiles(database.db)] : [checked];
  } catch (error) {
    return [
      {
        name: 'Database',
        status: 'fail',
        detail: `${database.backend} at ${database.location}: ${(error as Error).message}`,
      },
    ];
  } finally {
    await database.close();
  }
}

async function checkPlatform(config: Config): Promise<Check> {
  const run = await readRunInfo(config.dataDir);
  const address = run?.temporalAddress ?? config.temporalAddress;
  if (address === undefined)
    return { name: 'Platform', status: 'ok', detail: 'not running (start it with `npm start`)' };
  try {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      await connection.workflowService.describeNamespace({
        namespace: run?.temporalNamespace ?? config.temporalNamespace,
      });
    } finally {
      await connection.close();
    }
    const owner = run === undefined ? 'TEMPORAL_ADDRESS' : `platform pid ${run.pid}, up since ${run.startedAt}`;
    return {
      name: 'Platform',
      status: 'ok',
      detail: `Temporal answering at ${address} (${owner})${run?.temporalUiUrl ? `, UI ${run.temporalUiUrl}` : ''}`,
    };
  } catch (error) {
    return {
      name: 'Platform',
      status: 'fail',
      detail: `Temporal at ${address} does not answer: ${(error as Error).message}`,
    };
  }
}

/** The data dir holds keys and every stored prompt: nobody but its owner may reach anything in it. */
async function checkDataDir(config: Config): Promise<Check> {
  const { loose, complete } = await findLoosePaths(config.dataDir);
  const partial = complete ? '' : ` (stopped looking after ${dataDirEntriesMax} entries)`;
  if (loose.length === 0) return { name: 'Data dir', status: 'ok', detail: `${config.dataDir}: owner-only${partial}` };
  return {
    name: 'Data dir',
    status: 'warn',
    detail: `${config.dataDir}: ${describeLoosePaths(config.dataDir, loose)}; \`npm start\` also fixes what the platform wrote there${partial}`,
  };
}

/**
 * The plugin secrets (TOKENWISE_SECRET_*) as the worker will read them: a misnamed, empty or unshared
 * variable is ignored there, said once in its log at start; here, before a merge goes unscored.
 * Names only: never a value.
 */
export function checkPluginSecrets(env: Readonly<Record<string, string | undefined>>): Check {
  const variables = Object.keys(env).filter((name) => name.startsWith(secretVariablePrefix)).length;
  const { problems } = orgSecretsFromEnv(env);
  if (problems.length > 0)
    return { name: 'Plugin secrets', status: 'warn', detail: `${problems.length} ignored: ${problems.join(' ')}` };
  return {
    name: 'Plugin secrets',
    status: 'ok',
    detail:
      variables === 0
        ? `none set (plugins that need one, such as github-commits' token, read ${secretVariablePrefix}<ORG>__<NAME>)`
        : `${variables} ${secretVariablePrefix}* variable${variables === 1 ? '' : 's'}, all readable as set`,
  };
}

/** `tokenwise doctor`: what is installed and running. Exit 1 when something required fails. */
export async function runDoctor(options: { json: boolean }): Promise<number> {
  const config = loadConfig();
  // The data dir as found: opening the database below tightens what the platform wrote there.
  const dataDir = await checkDataDir(config);
  const checks = [
    checkNode(),
    ...(
      await Promise.all([
        checkTemporalCli(),
        checkTestServer(),
        checkPostgresBinaries(config),
        checkDatabase(config),
        checkPlatform(config),
      ])
    ).flat(),
    checkPluginSecrets(process.env),
    dataDir,
  ];
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
  } else {
    const width = Math.max(...checks.map((check) => check.name.length));
    for (const check of checks)
      process.stdout.write(`${check.status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}\n`);
  }
  return checks.some((check) => check.status === 'fail') ? 1 : 0;
}
