import { describe, expect, it } from 'vitest';
import { commitProvenance } from './commit-trailers';

describe('commit provenance trailers', () => {
  it('reads request and session ids and the AI co-authors from the trailer block', () => {
    const message = [
      'Add retry budget to the payment client',
      '',
      'The client now gives up after three attempts.',
      '',
      'Tokenwise-Request: req_0123456789abcdef01234567',
      'tokenwise-session: sess-2f9c.agent_1',
      'Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>',
      'Co-Authored-By: Claude <noreply@anthropic.com>',
      'Co-authored-by: aider (anthropic/claude-sonnet-4) <noreply@aider.chat>',
      'Co-authored-by: Grace Hopper <grace@example.com>',
      'Signed-off-by: Ada <ada@example.com>',
    ].join('\n');
    expect(commitProvenance(message)).toEqual({
      requestIds: ['req_0123456789abcdef01234567'],
      sessionIds: ['sess-2f9c.agent_1'],
      aiCoauthors: ['copilot', 'claude', 'aider'],
    });
  });

  it('ignores trailer-looking lines outside the last paragraph, in a subject alone, or in a block with prose', () => {
    const id = 'req_0123456789abcdef01234567';
    expect(commitProvenance(`Tokenwise-Request: ${id}`).requestIds).toEqual([]);
    expect(commitProvenance(`Subject\n\nTokenwise-Request: ${id}\n\nThe body goes on.`).requestIds).toEqual([]);
    expect(commitProvenance(`Subject\n\nTokenwise-Request: ${id}\nthis line is prose`).requestIds).toEqual([]);
  });

  it('keeps only well-formed ids, each once, and a bounded number of them', () => {
    const ids = Array.from({ length: 40 }, (_, index) => `req_${index.toString(16).padStart(24, '0')}`);
    const message = [
      'Subject',
      '',
      'Tokenwise-Request: req_nothex',
      'Tokenwise-Request: req_0123456789abcdef01234567; drop table',
      'Tokenwise-Session: has space',
      ...ids.map((id) => `Tokenwise-Request: ${id}`),
      `Tokenwise-Request: ${ids[0]}`,
    ].join('\r\n');
    const { requestIds, sessionIds } = commitProvenance(message);
    expect(requestIds).toEqual(ids.slice(0, 32));
    expect(sessionIds).toEqual([]);
  });
});
