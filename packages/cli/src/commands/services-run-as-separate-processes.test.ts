import { createApiClient } from '@tokenwise/api';
import { findOrgBySlug } from '@tokenwise/db';
import { gatewayNodeFlags } from '@tokenwise/gateway';
import { startVllmSim, type VllmSim } from '@tokenwise/vllm-sim';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../config';
import { bundleEntries, freePort } from '@tokenwise/devtools';
import { seedDemo, type DevFile } from '../local/demo-seed';
import { openServices } from '../services';

const bin = fileURLToPath(new URL('../../bin/tokenwise.mjs', import.meta.url));
const cliDir = fileURLToPath(new URL('../../', import.meta.url));
/** The gateway as Compose runs it: from its bundle (`npm run build`) with gatewayNodeFlags, and no TypeScript loader. */
const gatewayBundle = `${cliDir}dist/gateway.mjs`;
const model = 'sim/llama-3.1-8b-instruct';
/** How long a stopped service may take to exit after SIGTERM. */
const exitAfterSigtermMsMax = 10_000;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `tokenwise <args>` as a child process, as Compose runs it, with only the given settings. */
function tokenwise(args: string[], env: Record<string, string>, cwd: string, script = bin): Running {
  const {
    DATABASE_URL: _d,
    TEMPORAL_ADDRESS: _t,
    VLLM_URL: _v,
    TOKENWISE_CONFIG: _c,
    TOKENWISE_CLUSTERS_FILE: _f,
    ...inherited
  } = process.env;
  const nodeArgs = script === gatewayBundle ? gatewayNodeFlags : [];
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function started(service: Running, name: string): Promise<void> {
  await until(async () => {
    if (service.child.exitCode !== null)
      throw new Error(`tokenwise ${name} exited with ${service.child.exitCode}:\n${service.output()}`);
    return service.output().includes(`tokenwise ${name} is running`) ? true : undefined;
  }, `tokenwise ${name} to start:\n${service.output()}`);
}

async function stopsCleanly(service: Running): Promise<void> {
  const signalledAt = Date.now();
  service.child.kill('SIGTERM');
  const code = await Promise.race([
    service.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve('still running'), exitAfterSigtermMsMax)),
  ]);
  expect(code, service.output()).toBe(0);
  expect(Date.now() - signalledAt).toBeLessThan(exitAfterSigtermMsMax);
}

describe('gateway, worker and api as separate processes on PostgreSQL and Temporal', { timeout: 90_000 }, () => {
  let dir: string;
  let sim: VllmSim;
  let admin: pg.Client;
  let databaseName: string;
  let env: Record<string, string>;
  let devFile: DevFile;
  const running: Running[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-services-'));
    await bundleEntries({ gateway: `${cliDir}src/gateway-main.ts` }, `${cliDir}dist`);
    sim = await startVllmSim({ model });
    admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    databaseName = `tw_services_${randomBytes(6).toString('hex')}`;
    await admin.query(`create database ${databaseName}`);
    const url = new URL(inject('postgresAdminUrl'));
    url.pathname = `/${databaseName}`;
    const [gatewayPort, apiPort] = [await freePort(), await freePort()];
    env = {
      TOKENWISE_DATA_DIR: dir,
      DATABASE_URL: url.toString(),
      TOKENWISE_LEDGER_KEY: randomBytes(32).toString('hex'),
      TOKENWISE_KEY_PEPPER: randomBytes(32).toString('hex'),
      VLLM_URL: sim.url,
      TOKENWISE_GATEWAY_PORT: String(gatewayPort),
      TOKENWISE_API_PORT: String(apiPort),
      TOKENWISE_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      // Its own namespace: the worker creates the platform's fixed-id Schedules, which other test files create and delete too.
      TEMPORAL_NAMESPACE: inject('temporalServicesNamespace'),
    };
    // What an admin does once on a new installation: migrate, then create an org with users, keys and grants.
    const services = await openServices(loadConfig(env, dir));
    try {
      const seeded = await seedDemo({
        db: services.database.db,
        ledger: services.ledger,
        keyPepper: services.keyPepper,
        dataDir: dir,
        gatewayUrl: `http://127.0.0.1:${gatewayPort}/v1`,
        apiUrl: `http://127.0.0.1:${apiPort}`,
        temporalUiUrl: null,
        slackUrl: null,
        models: [model],
      });
      devFile = seeded.devFile;
      // Rewards are paid from the org's reward pool; the demo seed leaves it empty.
      const org = await findOrgBySlug(services.database.db, { slug: 'demo' });
      if (org === undefined) throw new Error('the demo seed made no demo org');
      const pool = await services.ledger.ensureAccount({
        ownerType: 'org',
        ownerId: org.id,
        orgId: org.id,
        currency: 'priority',
        purpose: 'reward_pool',
      });
      const issuance = await services.ledger.ensureAccount({
        ownerType: 'system',
        ownerId: 'issuance',
        currency: 'priority',
        purpose: 'issuance',
      });
      const [funded] = await services.ledger.submit([
        {
          type: 'transfer',
          id: 'fund-reward-pool',
          debitAccountId: issuance.id,
          creditAccountId: pool.id,
          amount: 1_000_000_000n,
          code: 'grant',
          userData: { reason: 'reward pool' },
        },
      ]);
      expect(funded?.ok).toBe(true);
    } finally {
      await services.close();
    }
  });

  afterAll(async () => {
    for (const service of running) if (service.child.exitCode === null) service.child.kill('SIGKILL');
    await Promise.all(running.map((service) => service.exited));
    await sim?.close();
    await admin?.query(`drop database if exists ${databaseName} with (force)`);
    await admin?.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start gateway, worker or api without DATABASE_URL, naming why, and the Slack bot without its variables, naming them', async () => {
    const { DATABASE_URL: _database, ...withoutDatabase } = env;
    const results = await Promise.all(
      ['gateway', 'worker', 'api', 'slack'].map(async (name) => {
        const service = tokenwise([name], name === 'slack' ? env : withoutDatabase, dir);
        return { name, code: await service.exited, output: service.output() };
      }),
    );
    const bundled = tokenwise([], withoutDatabase, dir, gatewayBundle);
    results.push({ name: 'gateway', code: await bundled.exited, output: bundled.output() });
    for (const { name, code, output } of [...results.slice(0, 3), ...results.slice(4)]) {
      expect(code, output).toBe(1);
      expect(output).toContain(`tokenwise: the ${name} service needs DATABASE_URL`);
      expect(output).toMatch(/PGlite, which cannot be shared between processes/);
    }
    expect(results[3]).toMatchObject({
      code: 1,
      output: expect.stringMatching(
        /Slack bot: off\. To run it, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET .* or SLACK_APP_TOKEN/,
      ),
    });
  });

  it('has the worker wait for a Temporal server that is not up yet, saying so, and stop on SIGTERM meanwhile', async () => {
    const worker = tokenwise(['worker'], { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` }, dir);
    running.push(worker);
    await until(
      async () =>
        /Temporal at 127\.0\.0\.1:\d+ is not reachable yet \(attempt 1 of \d+: .+\); retrying in 3 s\./.test(
          worker.output(),
        )
          ? true
          : undefined,
      `the worker's retry line:\n${worker.output()}`,
    );
    await stopsCleanly(worker);
    expect(worker.output()).toMatch(/Stopped worker during startup/);
  });

  it('answers through the gateway (run from its bundle), serves the typed API, settles through the worker, and each exits 0 on SIGTERM', async () => {
    const gateway = tokenwise([], env, dir, gatewayBundle);
    const api = tokenwise(['api'], env, dir);
    const worker = tokenwise(['worker'], env, dir);
    running.push(gateway, api, worker);
    await Promise.all([started(gateway, 'gateway'), started(api, 'api'), started(worker, 'worker')]);
    expect(worker.output()).toMatch(/platform check passed/);

    const ada = devFile.users.find((user) => user.email.startsWith('ada'));
    if (ada === undefined) throw new Error('no ada in the demo seed');
    const openai = new OpenAI({ baseURL: devFile.gatewayUrl, apiKey: ada.apiKey, maxRetries: 0 });
    const { data: completion, response } = await openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Write a haiku about metering.' }] })
      .withResponse();
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const requestId = response.headers.get('x-request-id');
    const usage = new pg.Client({ connectionString: env.DATABASE_URL });
    await usage.connect();
    try {
      // The charge commits right after the answer is sent.
      const rows = await until(async () => {
        const found = await usage.query<{ model: string; user_id: string }>(
          'select model, user_id from usage_records where request_id = $1',
          [requestId],
        );
        return found.rows.length > 0 ? found.rows : undefined;
      }, 'the usage row');
      expect(rows).toEqual([{ model, user_id: expect.any(String) }]);
    } finally {
      await usage.end();
    }

    const client = createApiClient({ url: devFile.apiUrl as string, apiKey: ada.apiKey });
    const settled = await until(async () => {
      const rows = (await client.me.recentUsage.query({ limit: 5 })) as {
        requestId: string;
        model: string;
        settledAt: string | null;
      }[];
      expect(rows.map((row) => row.requestId)).toEqual([requestId]);
      return rows[0]?.settledAt !== null ? rows[0] : undefined;
    }, 'the worker to settle the request');
    expect(settled).toMatchObject({ requestId, model });
    // The api process loads the scoring plugins for its plugins router, as dev does.
    const plugins = (await client.plugins.list.query()) as { id: string }[];
    expect(plugins.map((plugin) => plugin.id)).toContain('llm-judge');

    await Promise.all([stopsCleanly(api), stopsCleanly(worker)]);

    // A stream in flight when SIGTERM arrives still finishes and is charged: the gateway drains, then closes the ledger.
    sim.setFaults({ stall: { afterTokens: 2, durationMs: 1_500 } });
    const stream = await openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Count slowly.' }], stream: true, max_tokens: 8 })
      .withResponse();
    const chunks: string[] = [];
    let stopping: Promise<void> | undefined;
    for await (const chunk of stream.data) {
      chunks.push(chunk.choices[0]?.delta.content ?? '');
      stopping ??= stopsCleanly(gateway);
    }
    await stopping;
    expect(chunks.join('').length).toBeGreaterThan(0);
    const drained = new pg.Client({ connectionString: env.DATABASE_URL });
    await drained.connect();
    try {
      const rows = await drained.query('select completion_tokens, outcome from usage_records where request_id = $1', [
        stream.response.headers.get('x-request-id'),
      ]);
      expect(rows.rows, gateway.output()).toEqual([{ completion_tokens: 8, outcome: 'completed' }]);
    } finally {
      await drained.end();
    }
    expect(gateway.output()).toMatch(/Stopping gateway/);
  });
});
