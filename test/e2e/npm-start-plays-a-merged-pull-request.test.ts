import { createApiClient } from '@tokenwise/api';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/cli/bin/tokenwise.mjs', import.meta.url));

interface DevFile {
  gatewayUrl: string;
  apiUrl: string;
  githubUrl: string | null;
  models: string[];
  users: { email: string; apiKey: string }[];
}

/** The README's demo request: the simulated model answers with exactly this JSON, about 60 code tokens. */
const routes = {
  routes: [
    { path: '/orders', method: 'GET', handler: 'listOrders', auth: true },
    { path: '/orders/:id', method: 'GET', handler: 'getOrder', auth: true },
    { path: '/orders', method: 'POST', handler: 'createOrder', auth: true, body: { items: [], total: 0 } },
  ],
};

async function until<T>(probe: () => Promise<T | undefined>, what: string, attempts = 1_200): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** `tokenwise args...` as a user runs it in another terminal, on `dataDir`. */
function tokenwise(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dataDir,
      env: { ...process.env, TOKENWISE_DATA_DIR: dataDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the commit-linkage demo path under npm start, as the README tells it', { timeout: 180_000 }, () => {
  let dir: string;
  let elsewhere: string;
  let platform: ChildProcess;
  let output = '';
  beforeAll(async () => {
    [dir, elsewhere] = await Promise.all([
      mkdtemp(join(tmpdir(), 'tw-e2e-gh-')),
      mkdtemp(join(tmpdir(), 'tw-e2e-gh-none-')),
    ]);
    const {
      DATABASE_URL: _database,
      TEMPORAL_ADDRESS: _temporal,
      VLLM_URL: _vllm,
      TOKENWISE_CONFIG: _config,
      GITHUB_WEBHOOK_SECRET: _secret,
      GITHUB_OAUTH_CLIENT_ID: _client,
      TOKENWISE_GITHUB_URL: _web,
      TOKENWISE_GITHUB_API_URL: _api,
      ...env
    } = process.env;
    platform = spawn(process.execPath, [bin, 'dev'], {
      cwd: dir,
      env: { ...env, TOKENWISE_DATA_DIR: dir, TEMPORAL_UI_PORT: '0', TOKENWISE_GATEWAY_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    platform.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    platform.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  afterAll(async () => {
    if (platform.exitCode === null) platform.kill('SIGKILL');
    await Promise.all([dir, elsewhere].map((path) => rm(path, { recursive: true, force: true })));
  });

  it('links a login, merges a request’s code on the local GitHub and refunds it; refuses what it cannot play', async () => {
    // Without a running platform there is no local GitHub: the command says to start one.
    const nowhere = tokenwise(['github', 'play-merge', '--request', 'req-1'], elsewhere);
    await until(async () => {
      if (platform.exitCode !== null) throw new Error(`the platform exited with ${platform.exitCode}:\n${output}`);
      return output.includes('Press Ctrl-C to stop.') ? true : undefined;
    }, 'the platform to start');
    const devFile = JSON.parse(await readFile(join(dir, 'dev.json'), 'utf8')) as DevFile;
    expect(devFile.githubUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toContain(`GitHub: a local stand-in at ${devFile.githubUrl}`);
    const ray = devFile.users.find((user) => user.email === 'ray@demo.test');
    const ada = devFile.users.find((user) => user.email === 'ada@demo.test');
    if (ray === undefined || ada === undefined) throw new Error('no ray@demo.test or ada@demo.test in dev.json');

    const askForCode = (apiKey: string) =>
      new OpenAI({ baseURL: devFile.gatewayUrl, apiKey, maxRetries: 0 }).chat.completions
        .create({
          model: devFile.models[0] as string,
          messages: [{ role: 'user', content: 'Write the routing table of the orders service as JSON' }],
          response_format: { type: 'json_schema', json_schema: { name: 'routes', schema: { const: routes } } },
        })
        .withResponse();
    // Ada's team (platform) scores with the judge: her code merged on the local GitHub would wake nothing.
    const [answer, adaAnswer] = await Promise.all([askForCode(ray.apiKey), askForCode(ada.apiKey)]);
    const requestId = answer.response.headers.get('x-request-id') as string;
    const adaRequestId = adaAnswer.response.headers.get('x-request-id') as string;
    const cost = BigInt(answer.response.headers.get('x-tokenwise-cost-innovation') as string);

    // (Unknown and malformed ids are refused in packages/cli's github-commands test, in process.)
    const [unlinked, refusedNowhere] = await Promise.all([
      tokenwise(['github', 'play-merge', '--request', requestId], dir),
      nowhere,
    ]);
    expect(refusedNowhere.code).toBe(1);
    expect(refusedNowhere.stderr).toMatch(/works only while the platform runs \(npm start\)/);
    // No merge can be Ray's before his login is linked: the refusal says how to link it.
    expect(unlinked.code).toBe(1);
    expect(unlinked.stderr).toContain(
      "has no linked GitHub login, so no merge can be theirs: link one first (they prove it with the API's me.linkGithub",
    );
    expect(unlinked.stderr).toContain('`tokenwise github link --org demo --user ray@demo.test --login <login>`');

    // Step 1 of the README: Ray proves his login through the local GitHub's device flow, entering
    // the code on its page as ray-gh; Ada's is linked by an admin, the alternative it names.
    const api = createApiClient({ url: devFile.apiUrl, apiKey: ray.apiKey });
    const adaLinked = await tokenwise(
      ['github', 'link', '--org', 'demo', '--user', 'ada@demo.test', '--login', 'ada-gh'],
      dir,
    );
    expect(adaLinked).toMatchObject({ code: 0, stdout: expect.stringContaining('Linked GitHub login ada-gh') });
    const started = (await api.me.linkGithub.mutate({})) as {
      attemptId: string;
      userCode: string;
      verificationUri: string;
      intervalSeconds: number;
    };
    expect(started.verificationUri).toBe(`${devFile.githubUrl}/login/device`);
    const page = await fetch(started.verificationUri, {
      method: 'POST',
      body: new URLSearchParams({ user_code: started.userCode, login: 'ray-gh', decision: 'approve' }),
    });
    expect(page.status).toBe(200);
    const linked = await until(
      async () => {
        // GitHub's interval between two polls, as a client waits it.
        await new Promise((resolve) => setTimeout(resolve, (started.intervalSeconds + 0.5) * 1000));
        const answer = (await api.me.linkGithub.mutate({ attemptId: started.attemptId })) as { state: string };
        return answer.state === 'pending' ? undefined : answer;
      },
      'Ray’s device-flow link',
      6,
    );
    expect(linked).toMatchObject({ state: 'linked', login: 'ray-gh' });
    const played = await tokenwise(['github', 'play-merge', '--request', requestId], dir);
    expect(played.code, played.stderr).toBe(0);
    expect(played.stdout).toContain('Merged tokenwise-demo/app#1 on the local GitHub');
    expect(played.stdout).toContain(`npx tokenwise history --org demo --user ray@demo.test`);

    // The merge is Ray's reviewed code with its request trailer: score 1, half the cost back (the demo policy).
    const settled = await until(async () => {
      const rows = (await api.me.recentUsage.query({ limit: 5 })) as {
        requestId: string;
        score: number | null;
        refund: bigint | null;
        settledAt: string | null;
      }[];
      const row = rows.find((entry) => entry.requestId === requestId);
      return row?.settledAt === null || row === undefined ? undefined : row;
    }, 'the merge to settle the request');
    expect(settled).toMatchObject({ score: 1, refund: cost / 2n });

    // Played again, the settled request is refused (the merge would change nothing), and so is Ada's.
    const [again, notWatched] = await Promise.all(
      [requestId, adaRequestId].map((id) => tokenwise(['github', 'play-merge', '--request', id], dir)),
    );
    expect(again?.code).toBe(1);
    expect(again?.stderr).toMatch(/is settled already/);
    expect(notWatched?.code).toBe(1);
    expect(notWatched?.stderr).toMatch(
      /The team of ada@demo.test does not score with github-commits against the local GitHub .* the research team does/,
    );

    platform.kill('SIGINT');
    const [code] = (await once(platform, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
