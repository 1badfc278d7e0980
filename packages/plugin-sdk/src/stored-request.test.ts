import { describe, expect, it } from 'vitest';
import { scoreInputOf, type StoredRequest } from './stored-request';

const stored: StoredRequest = {
  requestId: 'req-1',
  orgId: 'org-1',
  userId: 'user-1',
  teamId: 'team-1',
  model: 'llama-8b',
  promptTokens: 12,
  completionTokens: 34,
  cost: 1_000n,
  currency: 'innovation',
  tags: { repository: 'acme/api' },
  createdAt: new Date('2026-11-01T00:00:00Z'),
  prompt: [{ role: 'user', content: 'hi' }],
  completion: 'hello',
};

describe('scoreInputOf', () => {
  it('maps a stored request and its config to the ScoreInput a plugin sees', () => {
    expect(scoreInputOf(stored, { rubric: 'r' })).toEqual({
      requestId: 'req-1',
      model: 'llama-8b',
      promptMessages: [{ role: 'user', content: 'hi' }],
      completion: 'hello',
      promptTokens: 12,
      completionTokens: 34,
      cost: { minorUnits: 1_000n, currency: 'innovation' },
      userId: 'user-1',
      teamId: 'team-1',
      orgId: 'org-1',
      tags: { repository: 'acme/api' },
      createdAt: new Date('2026-11-01T00:00:00Z'),
      config: { rubric: 'r' },
    });
  });

  it('keeps prompt text as is, flattens odd chat content, and reads a purged payload as empty', () => {
    expect(scoreInputOf({ ...stored, prompt: 'complete this' }, {}).promptMessages).toBe('complete this');
    const odd = scoreInputOf({ ...stored, prompt: [{ role: 'wizard', content: [{ type: 'text', text: 'x' }] }] }, {});
    expect(odd.promptMessages).toEqual([{ role: 'user', content: '[{"type":"text","text":"x"}]' }]);
    const purged = scoreInputOf(
      { ...stored, prompt: null, completion: null, tags: null, userId: null, teamId: null },
      {},
    );
    expect(purged).toMatchObject({ promptMessages: '', completion: '', tags: {}, userId: '', teamId: '' });
  });

  it('gives the plugin the validated experiment tag and session id of the usage row, both keys or none', () => {
    const tagged = scoreInputOf(
      { ...stored, experimentKey: 'checkout-button', variantKey: 'blue', sessionId: 'sess-42' },
      {},
    );
    expect(tagged.experiment).toEqual({ experimentKey: 'checkout-button', variantKey: 'blue' });
    expect(tagged.sessionId).toBe('sess-42');
    const untagged = scoreInputOf({ ...stored, experimentKey: null, variantKey: null, sessionId: null }, {});
    expect(untagged).not.toHaveProperty('experiment');
    expect(untagged).not.toHaveProperty('sessionId');
    expect(scoreInputOf({ ...stored, experimentKey: 'checkout-button', variantKey: null }, {})).not.toHaveProperty(
      'experiment',
    );
  });
});
