import { ValidationError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { evidenceBytesMax, evidenceKeysMax, validateScoreResult } from './score-result';

const scored = {
  status: 'scored',
  score: 0.75,
  confidence: 1,
  evidence: { samples: [{ choice: 'Y' }], usage: { promptTokens: 10 } },
  rationale: 'ok',
};

describe('validateScoreResult', () => {
  it('accepts the three statuses', () => {
    expect(validateScoreResult(scored)).toEqual(scored);
    expect(validateScoreResult({ status: 'pending', reason: 'no commit yet' })).toEqual({
      status: 'pending',
      reason: 'no commit yet',
    });
    expect(validateScoreResult({ status: 'not_applicable', reason: 'no ideal answer' }).status).toBe('not_applicable');
  });

  it.each([
    ['a score above 1', { ...scored, score: 1.01 }, /score:/],
    ['a negative confidence', { ...scored, confidence: -0.1 }, /confidence:/],
    ['a NaN score', { ...scored, score: Number.NaN }, /score:/],
    ['an infinite confidence', { ...scored, confidence: Infinity }, /confidence:/],
    ['a score as a string', { ...scored, score: '0.5' }, /score:/],
    ['evidence that is an array', { ...scored, evidence: [1, 2] }, /evidence:/],
    ['a bigint in evidence', { ...scored, evidence: { cost: 10n } }, /evidence\.cost/],
    ['NaN in evidence', { ...scored, evidence: { x: Number.NaN } }, /evidence\.x/],
    ['evidence too big', { ...scored, evidence: { blob: 'x'.repeat(evidenceBytesMax) } }, /at most 16384 bytes/],
    ['a missing rationale', { status: 'scored', score: 0.5, confidence: 0.5, evidence: {} }, /rationale:/],
    ['an unknown key', { ...scored, scroe: 1 }, /scroe/],
    ['an unknown status', { status: 'done' }, /status:/],
    ['an empty reason', { status: 'pending', reason: '  ' }, /reason: must say why/],
    ['undefined', undefined, /Invalid score result/],
  ])('refuses %s with a message', (_what, result, message) => {
    expect(() => validateScoreResult(result)).toThrow(ValidationError);
    expect(() => validateScoreResult(result)).toThrow(message);
  });
});

describe('evidence keys of a pending result', () => {
  it('accepts printable keys up to the limit and refuses the rest with a message', () => {
    const keys = Array.from({ length: evidenceKeysMax }, (_, index) => `fp:${index}`);
    expect(validateScoreResult({ status: 'pending', reason: 'waiting', evidenceKeys: keys })).toMatchObject({
      evidenceKeys: keys,
    });
    expect(() => validateScoreResult({ status: 'pending', reason: 'w', evidenceKeys: [...keys, 'one-more'] })).toThrow(
      /at most 2048 keys/,
    );
    expect(() => validateScoreResult({ status: 'pending', reason: 'w', evidenceKeys: ['has space'] })).toThrow(
      /printable ASCII without spaces/,
    );
    expect(() => validateScoreResult({ status: 'pending', reason: 'w', evidenceKeys: [''] })).toThrow(
      /must not be empty/,
    );
    expect(() => validateScoreResult({ status: 'pending', reason: 'w', evidenceKeys: ['x'.repeat(129)] })).toThrow(
      ValidationError,
    );
  });
});
