import { describe, expect, it } from 'vitest';
import { formatKey, newKeyId, newKeySecret, parseKey, secretHmac, secretMatches } from './key-format';
import { testPepper } from './test-fixtures';

describe('API key format', () => {
  it('makes ids of 12 base32 characters and secrets of 43 base62 characters (about 256 bits), all distinct', () => {
    const ids = new Set(Array.from({ length: 2_000 }, newKeyId));
    const secrets = new Set(Array.from({ length: 2_000 }, newKeySecret));
    expect(ids.size).toBe(2_000);
    expect(secrets.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(/^[a-z2-7]{12}$/);
    for (const secret of secrets) expect(secret).toMatch(/^[0-9A-Za-z]{43}$/);
    expect(43 * Math.log2(62)).toBeGreaterThan(255);
  });

  it('uses every base62 character about equally often', () => {
    const counts = new Map<string, number>();
    for (let index = 0; index < 2_000; index += 1)
      for (const char of newKeySecret()) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (2_000 * 43) / 62;
    for (const count of counts.values()) expect(Math.abs(count - expected)).toBeLessThan(expected * 0.25);
  });

  it('parses only the exact shape back, and checks secrets against the HMAC', () => {
    const id = newKeyId();
    const secret = newKeySecret();
    expect(parseKey(formatKey(id, secret))).toEqual({ id, secret });
    for (const bad of [
      '',
      `tw_${id}`,
      `tw_${id}_`,
      `TW_${id}_${secret}`,
      `tw_${id}_${secret}_`,
      `tw_${id.slice(1)}_${secret}`,
      `tw_${id}_${secret.slice(1)}`,
      ` tw_${id}_${secret}`,
    ]) {
      expect(parseKey(bad)).toBeUndefined();
    }
    const stored = Buffer.from(secretHmac(testPepper, secret), 'hex');
    expect(secretMatches(testPepper, secret, stored)).toBe(true);
    expect(secretMatches(testPepper, newKeySecret(), stored)).toBe(false);
    expect(secretMatches(Buffer.alloc(32, 1), secret, stored)).toBe(false);
  });
});
