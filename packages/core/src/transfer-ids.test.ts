import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { grantClientIdOf, grantTransferId } from './transfer-ids';

const orgA = '0b6f5c1e-8a4e-4f1b-9d2a-3c4d5e6f7a8b';
const orgB = '1c7a6d2f-9b5f-4a2c-8e3b-4d5e6f7a8b9c';

describe('grant transfer ids', () => {
  it('namespaces the same admin id by org, and reads it back only for that org', () => {
    expect(grantTransferId(orgA, 'welcome-alice')).toBe(`grant-${orgA}-welcome-alice`);
    expect(grantTransferId(orgA, 'welcome-alice')).not.toBe(grantTransferId(orgB, 'welcome-alice'));
    // An admin of A cannot spell B's namespace: A's prefix always comes first.
    expect(grantTransferId(orgA, `${orgB}-welcome-alice`)).not.toBe(grantTransferId(orgB, 'welcome-alice'));
    expect(grantClientIdOf(orgA, grantTransferId(orgA, 'x.1'))).toBe('x.1');
    expect(grantClientIdOf(orgB, grantTransferId(orgA, 'x.1'))).toBeUndefined();
  });

  it('refuses ids that are empty, too long or carry control or odd characters, saying what to use', () => {
    for (const bad of ['', ' lead', 'a'.repeat(129), 'nul\u0000', 'tab\tid', 'emoji-😀', 'slash/']) {
      expect(() => grantTransferId(orgA, bad)).toThrow(ValidationError);
    }
    expect(() => grantTransferId('not-an-org', 'ok')).toThrow(/org id/);
  });
});
