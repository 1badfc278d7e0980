import { describe, expect, it } from 'vitest';
import { landingOf } from './pull-evidence';

const before = 'b'.repeat(40);
const after = 'a'.repeat(40);
const push = { kind: 'push' as const, pullNumber: null, beforeSha: before, mergeCommitSha: after, forced: false };

describe('which evidence rows the relay loads', () => {
  it('loads a pull request by number, and an ordinary push as its before...after comparison', () => {
    expect(landingOf({ ...push, kind: 'pull_request', pullNumber: 7, beforeSha: null })).toEqual({
      kind: 'pull',
      pullNumber: 7,
    });
    expect(landingOf({ ...push, beforeSha: before.toUpperCase() })).toEqual({ kind: 'push', before, after });
  });

  it('credits nobody for a forced push, a push that created the branch, or one recorded without its before', () => {
    expect(landingOf({ ...push, forced: true })).toMatchObject({
      kind: 'none',
      reason: expect.stringMatching(/forced/),
    });
    expect(landingOf({ ...push, beforeSha: '0'.repeat(40) })).toMatchObject({
      kind: 'none',
      reason: expect.stringMatching(/created the branch/),
    });
    expect(landingOf({ ...push, beforeSha: null })).toMatchObject({ kind: 'none' });
    expect(landingOf({ ...push, mergeCommitSha: 'HEAD' })).toMatchObject({ kind: 'none' });
  });
});
