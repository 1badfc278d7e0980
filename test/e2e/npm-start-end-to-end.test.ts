import { createApiClient } from '@tokenwise/api';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { imChannelOf, startLocalSlack, type LocalSlack } from '@tokenwise/slack/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/cli/bin/tokenwise.mjs', import.meta.url));

interface DevFile {
  gatewayUrl: string;
  apiUrl: string;
  slackUrl: string | null;
  models: string[];
  users: { email: string; roles: string[]; apiKey: string }[];
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, attempts = 1_200): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('npm start on a fresh data dir, driven as a user would', { timeout: 180_000 }, () => {
  let dir: string;
  let platform: ChildProcess;
  let output = '';
  // Slack is outside: a local one speaking its wire formats, as SLACK_API_URL.
  let slack: LocalSlack;
  beforeAll(async () => {
    slack = await startLocalSlack();
    slack.addMember({ id: 'U0ADA', name: 'ada', realName: 'Ada', email: 'ada@demo.test' });
    dir = await mkdtemp(join(tmpdir(), 'tw-e2e-'));
    const {
      DATABASE_URL: _database,
      TEMPORAL_ADDRESS: _temporal,
      VLLM_URL: _vllm,
      TOKENWISE_CONFIG: _config,
      ...env
    } = process.env;
    platform = spawn(process.execPath, [bin, 'dev'], {
      cwd: dir,
      env: {
        ...env,
        TOKENWISE_DATA_DIR: dir,
        TEMPORAL_UI_PORT: '0',
        TOKENWISE_GATEWAY_PORT: '0',
        SLACK_BOT_TOKEN: slack.botToken,
        SLACK_SIGNING_SECRET: slack.signingSecret,
        SLACK_API_URL: slack.apiUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    platform.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    platform.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  afterAll(async () => {
    if (platform.exitCode === null) platform.kill('SIGKILL');
    await slack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('seeds, answers through the gateway, settles the request, shows it through the typed API, and stops cleanly', async () => {
    await until(async () => {
      if (platform.exitCode !== null) throw new Error(`the platform exited with ${platform.exitCode}:\n${output}`);
      return output.includes('Press Ctrl-C to stop.') ? true : undefined;
    }, 'the platform to start');
    const devFile = JSON.parse(await readFile(join(dir, 'dev.json'), 'utf8')) as DevFile;
    const ada = devFile.users.find((user) => user.roles.includes('employee') && user.email.startsWith('ada'));
    if (ada === undefined)
      throw new Error(`no employee in dev.json: ${JSON.stringify(devFile.users.map((user) => user.email))}`);

    const openai = new OpenAI({ baseURL: devFile.gatewayUrl, apiKey: ada.apiKey, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: devFile.models[0] as string,
      messages: [{ role: 'user', content: 'Write a haiku about metering.' }],
    });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);

    const api = createApiClient({ url: devFile.apiUrl, apiKey: ada.apiKey });
    const usage = await until(async () => {
      const rows = (await api.me.recentUsage.query({ limit: 5 })) as {
        requestId: string;
        score: number | null;
        settledAt: string | null;
      }[];
      // ada made exactly this one request since the seed.
      return rows.length === 1 && rows[0]?.settledAt !== null ? rows[0] : undefined;
    }, 'the request to be settled with a score');
    // The seeded judge answers with a json_schema verdict, so the settlement carries a score.
    expect(usage.score).not.toBeNull();
    expect(usage.score).toBeGreaterThanOrEqual(0);
    expect(usage.score).toBeLessThanOrEqual(1);

    // The Slack bot runs in the same process, at dev.json's slackUrl: /tokens answers Ada with her request.
    expect(devFile.slackUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const command = await slack.http(devFile.slackUrl as string).command({ userId: 'U0ADA', command: '/tokens' });
    expect(command.status).toBe(200);
    const answer = await slack.waitForResponse(command.responseUrlId, 15_000);
    expect(JSON.stringify(answer.body)).toContain(usage.requestId);
    // The settlement reaches her as a direct message too (the first digest goes at once).
    const dm = await slack.waitFor(
      () => slack.messages().find((message) => message.channel === imChannelOf('U0ADA')),
      'a direct message to Ada',
      15_000,
    );
    expect(JSON.stringify(dm)).toContain(usage.requestId);

    platform.kill('SIGINT');
    const [code] = (await once(platform, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(output).toMatch(/Stopping\.\.\./);
  });
});
