import { describe, expect, it } from 'vitest';
import type { DevFile } from '../local/demo-seed';
import { tryIt } from './dev';

const devFile: DevFile = {
  gatewayUrl: 'http://127.0.0.1:4000/v1',
  apiUrl: null,
  temporalUiUrl: null,
  slackUrl: null,
  githubUrl: null,
  models: ['sim/small', 'sim/judge'],
  users: [
    {
      email: 'eve@demo.test',
      userId: '00000000-0000-4000-8000-000000000001',
      teamId: null,
      team: null,
      roles: ['esg'],
      apiKey: 'tw_eve_secret',
    },
    {
      email: 'ada@demo.test',
      userId: '00000000-0000-4000-8000-000000000002',
      teamId: '00000000-0000-4000-8000-00000000000a',
      team: 'platform',
      roles: ['employee'],
      apiKey: 'tw_ada_secret',
    },
  ],
};

describe('the try-it block of npm start', () => {
  it("uses an employee's real key, the first model and the gateway URL from dev.json", () => {
    const lines = tryIt(devFile);
    const curl = lines.find((line) => line.trimStart().startsWith('curl '));
    expect(curl?.trim()).toBe(
      `curl http://127.0.0.1:4000/v1/chat/completions -H 'Authorization: Bearer tw_ada_secret' -H 'content-type: application/json' -d '{"model":"sim/small","messages":[{"role":"user","content":"Hello"}]}'`,
    );
    const node = lines.find((line) => line.trimStart().startsWith('node '))?.trim() ?? '';
    expect(node).toMatch(/^node --input-type=module -e "import OpenAI from 'openai'; .*"$/);
    expect(node).toContain("new OpenAI({ baseURL: 'http://127.0.0.1:4000/v1', apiKey: 'tw_ada_secret' })");
    // Pasted into a POSIX shell, the double-quoted script must not expand or end early.
    expect(node.slice(node.indexOf('"') + 1, -1)).not.toMatch(/["$`\\]/);
  });

  it('says where to look when there is no user or model', () => {
    expect(tryIt({ ...devFile, users: [] })).toEqual(['No demo user or model to try: see dev.json.']);
  });
});
