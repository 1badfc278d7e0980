import { installTemporalRuntime } from '@tokenwise/workflows';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { makeDataDirPrivate } from '../local/private-data-dir';
import { ensureTemporalCli, startTemporalDevServer } from '@tokenwise/devtools';
import { githubConfigFromEnv } from '@tokenwise/control';
import { startControlServer } from '../control/control-server';
import { configuredGithubVariable, demoGithubOwner, demoGithubRepo, startDemoGithub } from '../local/demo-github';
import { demoGithubTeam, demoOrgSlug, seedDemo, type DevFile } from '../local/demo-seed';
import { removeRunInfo, writeRunInfo } from '../run-file';
import { openServices } from '../services';
import { startApiService } from '../starters/api-starter';
import { startGatewayService } from '../starters/gateway-starter';
import { slackExtensions } from '../starters/slack-extensions';
import { planSlackBot, slackOffLine, startSlackService } from '../starters/slack-starter';
import { exitIfStuckAfterStop, preferredPort, Stack } from '../starters/stack';
import { loadScoringPlugins, startWorkerService } from '../starters/worker-starter';

const log = (line: string) => process.stdout.write(`${line}\n`);

/** The "try it" block: a curl command and an openai snippet with a real demo key, runnable as printed. */
export function tryIt(devFile: DevFile): string[] {
  const user = devFile.users.find((entry) => entry.roles.includes('employee')) ?? devFile.users[0];
  const model = devFile.models[0];
  if (user === undefined || model === undefined) return ['No demo user or model to try: see dev.json.'];
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] });
  const snippet = [
    "import OpenAI from 'openai';",
    `const client = new OpenAI({ baseURL: '${devFile.gatewayUrl}', apiKey: '${user.apiKey}' });`,
    `const reply = await client.chat.completions.create({ model: '${model}', messages: [{ role: 'user', content: 'Hello' }] });`,
    'console.log(reply.choices[0].message.content);',
  ].join(' ');
  return [
    `Try it as ${user.email} (every demo user's key is in dev.json), in another terminal:`,
    `  curl ${devFile.gatewayUrl}/chat/completions -H 'Authorization: Bearer ${user.apiKey}' -H 'content-type: application/json' -d '${body}'`,
    '  With the openai package, from the repository directory (where it is installed):',
    `  node --input-type=module -e "${snippet}"`,
    `  Then: npx tokenwise balance --org demo --user ${user.email}   and   npx tokenwise usage --org demo`,
  ];
}

/** `tokenwise dev` (npm start): every service in this process, with a local Temporal and a simulated cluster unless configured. */
export async function runDev(): Promise<number> {
  const config = loadConfig();
  installTemporalRuntime(process.env.TEMPORAL_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN');
  await makeDataDirPrivate(config.dataDir);
  const stack = new Stack();
  try {
    const services = await openServices(config);
    stack.push('database and ledger', () => services.close());
    const { database } = services;
    log(`Database: ${database.backend} at ${database.location}, migrations applied.`);
    log(
      `Ledger: journal HMAC key ${config.ledgerKey ? 'from TOKENWISE_LEDGER_KEY' : `in ${config.ledgerKeyPath}`}, checkpoints exported to ${config.ledgerCheckpointPath}.`,
    );
    // GitHub cannot be reached from a laptop demo: unless the operator configured GitHub, a local
    // stand-in plays it, its webhook secret and the demo org's token handed to the API and the
    // worker directly, never through process.env.
    const githubVariable = configuredGithubVariable(process.env);
    const demoGithub = githubVariable === null ? await startDemoGithub(demoOrgSlug) : undefined;
    if (demoGithub !== undefined) stack.push('local GitHub', () => demoGithub.close());
    const githubEnv = demoGithub === undefined ? undefined : { ...process.env, ...demoGithub.env };
    // The control endpoint runs `github play-merge` here, where the stand-in lives.
    const control = await startControlServer({ ...services, demoGithub });
    stack.push('control endpoint', () => control.close());

    const { gateway, models } = await startGatewayService(stack, {
      services,
      clusters: {
        clustersFile: config.clustersFile,
        vllmUrl: config.vllmUrl,
        priorityScheduling: config.vllmPriorityScheduling,
      },
      port: await preferredPort(config.gatewayPort),
      host: config.gatewayHost,
      actor: 'system:dev',
      log,
    });

    let address = config.temporalAddress;
    let uiUrl: string | undefined;
    if (address === undefined) {
      const cli = await ensureTemporalCli({ log });
      const server = await startTemporalDevServer({
        cliPath: cli.path,
        dbFilename: join(config.dataDir, 'temporal.db'),
        uiPort: await preferredPort(config.temporalUiPort),
        namespace: config.temporalNamespace,
      });
      stack.push('Temporal dev server', () => server.stop());
      address = server.address;
      uiUrl = server.uiUrl;
    }
    log(`Temporal: ${address} (namespace ${config.temporalNamespace})${uiUrl ? `, UI ${uiUrl}` : ''}`);
    // Slack variables are checked before anything is seeded: a half-configured bot names what is missing.
    const slack = await planSlackBot(process.env, Number(new URL(gateway.url).port));
    // One registry for the API's plugins router and the worker's settlements.
    const settlement = await loadScoringPlugins({
      services,
      gatewayUrl: gateway.url,
      dataDir: config.dataDir,
      log,
      env: githubEnv,
    });
    const api = await startApiService(stack, {
      services,
      port: await preferredPort(config.apiPort),
      host: config.apiHost,
      plugins: settlement,
      github: githubEnv === undefined ? undefined : githubConfigFromEnv(githubEnv),
      log,
    });
    log(
      demoGithub === undefined
        ? `GitHub: configured (${githubVariable ?? ''} is set), so no local stand-in runs.`
        : `GitHub: a local stand-in at ${demoGithub.url} (repository ${demoGithubOwner}/${demoGithubRepo}, watched by the ${demoGithubTeam} team's commit linkage); users prove a login with me.linkGithub, entering its code at ${demoGithub.url}/login/device; \`npx tokenwise github play-merge --request ID\` merges a request's code there.`,
    );
    const demo = await seedDemo({
      db: database.db,
      ledger: services.ledger,
      keyPepper: services.keyPepper,
      dataDir: config.dataDir,
      gatewayUrl: `${gateway.url}/v1`,
      apiUrl: api.url,
      temporalUiUrl: uiUrl ?? null,
      slackUrl: slack?.url ?? null,
      githubUrl: demoGithub?.url ?? null,
      models,
    });
    log(
      `Demo org: ${demo.seeded ? 'seeded' : 'already seeded'} (org demo, ${demo.devFile.users.length} users); URLs and API keys in ${demo.path}.`,
    );

    if (slack === null) log(slackOffLine);
    else
      await startSlackService(stack, {
        services,
        planned: slack,
        defaultOrgSlug: demoOrgSlug,
        extensions: slackExtensions(),
        log,
      });

    const worker = await startWorkerService(stack, {
      services,
      temporalAddress: address,
      temporalNamespace: config.temporalNamespace,
      gatewayUrl: gateway.url,
      dataDir: config.dataDir,
      settlement,
      log,
    });

    await writeRunInfo(config.dataDir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      temporalAddress: address,
      temporalNamespace: config.temporalNamespace,
      temporalUiUrl: uiUrl,
      database: database.location,
      control: { url: control.url, token: control.token },
    });
    stack.push('run file', () => removeRunInfo(config.dataDir));
    log(
      `\nTokenwise is running: database, ledger, gateway, tRPC API, Temporal, the worker and the settlement relay${slack === null ? '' : ', and the Slack bot'}.`,
    );
    for (const line of tryIt(demo.devFile)) log(line);
    log('Press Ctrl-C to stop.');

    await Promise.race([
      worker.running,
      new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      }),
    ]);
    log('\nStopping...');
    return 0;
  } finally {
    await stack.closeAll();
    exitIfStuckAfterStop();
  }
}
