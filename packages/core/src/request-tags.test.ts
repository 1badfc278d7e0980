import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExperimentTag, parseSessionTag, sessionIdLengthMax } from './request-tags';

describe('request tags', () => {
  it('accepts session ids and experiment tags of keys, and returns their parts', () => {
    expect(parseSessionTag('3f9c2a1e-7b4d-4c7a-9a35-1d2e3f4a5b6c')).toEqual({
      ok: true,
      value: '3f9c2a1e-7b4d-4c7a-9a35-1d2e3f4a5b6c',
    });
    expect(parseExperimentTag('checkout-button.v2:blue_1')).toEqual({
      ok: true,
      value: { experimentKey: 'checkout-button.v2', variantKey: 'blue_1' },
    });
  });

  it('refuses what could smuggle anything else, saying which header and what to fix', () => {
    for (const raw of ['', ' abc', 'a b', 'a/b', 'a:b', "a'--", '-abc', 'a'.repeat(sessionIdLengthMax + 1), 'é'])
      expect(parseSessionTag(raw)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^x-tokenwise-session: /),
      });
    for (const raw of ['exp', 'exp:', ':v', 'a:b:c', 'exp:v v', `${'e'.repeat(65)}:v`, 'exp:\nv'])
      expect(parseExperimentTag(raw)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^x-tokenwise-experiment: /),
      });
    expect(parseExperimentTag('a:b:c')).toMatchObject({ message: expect.stringContaining('exactly one') });
  });

  it('round-trips any experiment and variant key of the allowed charset', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
    fc.assert(
      fc.property(key, key, (experimentKey, variantKey) => {
        expect(parseExperimentTag(`${experimentKey}:${variantKey}`)).toEqual({
          ok: true,
          value: { experimentKey, variantKey },
        });
      }),
    );
  });
});
