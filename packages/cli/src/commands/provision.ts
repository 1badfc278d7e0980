import {
  findPostgresBinDir,
  postgresInstallHint,
  ensureTemporalCli,
  ensureTemporalTestServer,
  ProvisionError,
  runCommand,
  which,
} from '@tokenwise/devtools';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Debian's PostgreSQL, installed only where we may (root with apt-get); elsewhere we say what to do. */
async function ensurePostgresForTests(): Promise<string> {
  const found = await findPostgresBinDir();
  if (found !== undefined) return found;
  const aptGet = await which('apt-get');
  if (process.getuid?.() !== 0 || aptGet === undefined) throw new ProvisionError(postgresInstallHint);
  log("PostgreSQL is not installed; installing Debian's postgresql package...");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await runCommand(aptGet, ['update', '-q'], { env, echo: true });
  if (update.code !== 0) throw new ProvisionError(`apt-get update failed. ${postgresInstallHint}`);
  const install = await runCommand(aptGet, ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], {
    env,
    echo: true,
  });
  const binDir = install.code === 0 ? await findPostgresBinDir() : undefined;
  if (binDir === undefined) throw new ProvisionError(`apt-get install postgresql failed. ${postgresInstallHint}`);
  return binDir;
}

/** `tokenwise provision`: the pinned Temporal CLI; with --for-tests, the test server and PostgreSQL too. */
export async function runProvision(options: { forTests: boolean }): Promise<number> {
  const cli = await ensureTemporalCli({ log });
  log(`Temporal CLI: ${cli.path} (${cli.source})`);
  if (options.forTests) {
    const testServer = await ensureTemporalTestServer({ log });
    log(`Temporal test server: ${testServer.path} (${testServer.source})`);
    if (process.env.DATABASE_URL) {
      log('PostgreSQL: DATABASE_URL is set; tests use that server.');
    } else {
      log(`PostgreSQL: ${await ensurePostgresForTests()}`);
    }
  }
  return 0;
}
