import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean';

describe('did you mean', () => {
  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('kyes', 'keys')).toBe(1);
    expect(editDistance('grnat', 'grant')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('usage', 'usage')).toBe(0);
  });

  it('suggests the nearest names within two edits, and nothing for a word unlike any', () => {
    const names = ['keys', 'org', 'grant', 'balance', 'history', 'usage', 'reconcile'];
    expect(didYouMean('kyes', names)).toEqual(['keys']);
    expect(didYouMean('balnce', names)).toEqual(['balance']);
    expect(didYouMean('frobnicate', names)).toEqual([]);
    expect(didYouMean('xy', ['ab', 'org'])).toEqual([]);
  });
});
