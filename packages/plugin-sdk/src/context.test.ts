import { ConfigError } from '@tokenwise/core';
import { type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger, createPluginContext, createSecrets, secretsFromEnv } from './context';
import { FetchTimeoutError, withTimeout } from './fetch-with-timeout';
import { scriptedLlm } from './testing/scripted-llm';

describe('secrets', () => {
  it('returns a configured secret', () => {
    expect(createSecrets({ GITHUB_TOKEN: 'ghp_x' }).get('GITHUB_TOKEN')).toBe('ghp_x');
  });

  it('throws a ConfigError naming the unknown secret and the configured names, never their values', () => {
    const secrets = createSecrets({ B: 'secret-b', A: 'secret-a' }, 'plugin "commit-landed"');
    expect(() => secrets.get('GITHUB_TOKEN')).toThrow(ConfigError);
    expect(() => secrets.get('GITHUB_TOKEN')).toThrow(
      'Secret "GITHUB_TOKEN" is not configured for plugin "commit-landed". Configured secrets: A, B.',
    );
    expect(() => createSecrets({}).get('X')).toThrow(/Configured secrets: none/);
  });

  it('reads TOKENWISE_SECRET_<NAME> from the environment, and nothing else', () => {
    const env = {
      TOKENWISE_SECRET_GITHUB_TOKEN: 'ghs_x',
      TOKENWISE_SECRET_EMPTY: '',
      TOKENWISE_SECRET_lower: 'no',
      GITHUB_TOKEN: 'not-a-plugin-secret',
      TOKENWISE_KEY_PEPPER: 'never',
    };
    expect(secretsFromEnv(env)).toEqual({ GITHUB_TOKEN: 'ghs_x' });
  });
});

describe('json logger', () => {
  it('writes one JSON line per entry with base fields, bigints as strings', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ pluginId: 'llm-judge' }, (line) => lines.push(line));
    logger.warn('judge answer unparsable', { requestId: 'r1', cost: 12n });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'warn',
      msg: 'judge answer unparsable',
      pluginId: 'llm-judge',
      requestId: 'r1',
      cost: '12',
    });
  });
});

describe('fetch with a timeout', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers /fast at once and never answers /slow.
    server = createServer((req, res) => {
      if (req.url === '/fast') res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes a prompt answer through', async () => {
    const timed = withTimeout(fetch, 1_000);
    expect(await (await timed(`${url}/fast`)).text()).toBe('ok');
  });

  it('aborts a silent server after the timeout with an error naming the URL without its query', async () => {
    const timed = withTimeout(fetch, 100);
    const started = Date.now();
    await expect(timed(`${url}/slow?token=secret`)).rejects.toThrow(FetchTimeoutError);
    await expect(timed(`${url}/slow?token=secret`)).rejects.toThrow(
      new RegExp(`^${url}/slow did not answer within 100 ms`),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('aborts when the context signal aborts', async () => {
    const controller = new AbortController();
    const ctx = createPluginContext({
      logger: createJsonLogger({}, () => {}),
      llm: scriptedLlm([]),
      fetchTimeoutMs: 10_000,
      signal: controller.signal,
    });
    const pending = ctx.fetch(`${url}/slow`);
    controller.abort(new Error('run is over'));
    await expect(pending).rejects.toThrow(/run is over/);
  });

  it('refuses a timeout that is not a positive integer', () => {
    expect(() => withTimeout(fetch, 0)).toThrow(RangeError);
  });
});
