import { ForbiddenError } from '@tokenwise/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveKeyFields, type CreatorBounds, type DerivedKeyRequest } from './key-derivation';
import { keyScopes, type KeyScope } from './types';

const now = new Date('2026-12-01T12:00:00.000Z');
const inTenDays = new Date(now.getTime() + 10 * 86_400_000 + 3_600_000);
const open: CreatorBounds = {
  id: 'openopenopen',
  scopes: ['inference', 'api'],
  allowedModels: null,
  rpmLimit: null,
  tpmLimit: null,
  expiresAt: null,
};
const tight: CreatorBounds = {
  id: 'tighttightti',
  scopes: ['api'],
  allowedModels: ['llama-8b', 'qwen-7b'],
  rpmLimit: 60,
  tpmLimit: 10_000,
  expiresAt: inTenDays,
};
const derive = (creator: CreatorBounds, request: Partial<DerivedKeyRequest>) =>
  deriveKeyFields(creator, { scopes: ['api'], ...request }, { now });
const refusal = (creator: CreatorBounds, request: Partial<DerivedKeyRequest>): ForbiddenError => {
  try {
    derive(creator, request);
  } catch (error) {
    if (error instanceof ForbiddenError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('deriveKeyFields', () => {
  it('left out, a field inherits the creator’s bound; asked within it, the request stands', () => {
    expect(derive(tight, {})).toEqual({
      scopes: ['api'],
      allowedModels: ['llama-8b', 'qwen-7b'],
      rpmLimit: 60,
      tpmLimit: 10_000,
      expiresAt: inTenDays,
    });
    const sooner = new Date(now.getTime() + 86_400_000);
    expect(derive(tight, { allowedModels: ['qwen-7b'], rpmLimit: 60, tpmLimit: 1, expiresAt: sooner })).toEqual({
      scopes: ['api'],
      allowedModels: ['qwen-7b'],
      rpmLimit: 60,
      tpmLimit: 1,
      expiresAt: sooner,
    });
    // An unbounded creator passes anything on, null ("every model", "unlimited", "never") included.
    expect(
      derive(open, { scopes: ['inference', 'api'], allowedModels: null, rpmLimit: null, tpmLimit: 5, expiresAt: null }),
    ).toEqual({ scopes: ['inference', 'api'], allowedModels: null, rpmLimit: null, tpmLimit: 5, expiresAt: null });
    expect(derive(open, {})).toEqual({
      scopes: ['api'],
      allowedModels: null,
      rpmLimit: null,
      tpmLimit: null,
      expiresAt: null,
    });
  });

  it('refuses more than the creator has, naming the field and the creator’s bound', () => {
    expect(refusal(tight, { scopes: ['inference', 'api'] }).message).toBe(
      'scopes: your key tighttightti has scopes [api], and a key it creates may have only some of them: leave out inference, or ask an admin.',
    );
    expect(refusal(tight, { allowedModels: null }).message).toBe(
      'allowedModels: null means every model, but your key tighttightti may use only [llama-8b, qwen-7b]: leave allowedModels out to get that list, or list some of those models.',
    );
    expect(refusal(tight, { allowedModels: ['qwen-7b', 'llama-70b'] })).toMatchObject({
      message: expect.stringMatching(/^allowedModels: .*leave out llama-70b/),
      details: { field: 'allowedModels', creatorBound: ['llama-8b', 'qwen-7b'] },
    });
    expect(refusal(tight, { rpmLimit: 61 }).message).toBe(
      "rpmLimit: 61 is over your key tighttightti's limit of 60: ask for at most 60.",
    );
    expect(refusal(tight, { tpmLimit: null })).toMatchObject({
      message:
        'tpmLimit: null means unlimited, but your key tighttightti is limited to 10000: leave tpmLimit out to get 10000, or ask for at most 10000.',
      details: { creatorBound: 10_000 },
    });
    expect(refusal(tight, { expiresAt: null }).message).toBe(
      `expiresAt: null means never, but your key tighttightti expires at ${inTenDays.toISOString()}: leave expiresAt out to expire with it, or ask for at most 10 days.`,
    );
    const later = new Date(inTenDays.getTime() + 1);
    expect(refusal(tight, { expiresAt: later })).toMatchObject({
      message: expect.stringMatching(/^expiresAt: the new key would expire at .* after your key tighttightti/),
      details: { field: 'expiresAt', creatorBound: inTenDays.toISOString() },
    });
    const inProse = () =>
      deriveKeyFields(tight, { scopes: ['api'], expiresAt: null }, { now, expiryField: 'expiresInDays' });
    expect(inProse).toThrow(/^expiresInDays: .*leave expiresInDays out/);
  });

  it('never derives a key wider than its creator (property)', () => {
    const scopes = fc.subarray([...keyScopes], { minLength: 1 }) as fc.Arbitrary<KeyScope[]>;
    const models = fc.option(fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'd'), { minLength: 1 }), {
      nil: null,
    });
    const limit = fc.option(fc.integer({ min: 1, max: 1_000 }), { nil: null });
    const expiry = fc.option(
      fc.integer({ min: 1, max: 100 * 86_400_000 }).map((ms) => new Date(now.getTime() + ms)),
      { nil: null },
    );
    const orLeftOut = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });
    const creator = fc.record({
      id: fc.constant('creatorcreat'),
      scopes,
      allowedModels: models,
      rpmLimit: limit,
      tpmLimit: limit,
      expiresAt: expiry,
    });
    const request = fc.record({
      scopes,
      allowedModels: orLeftOut(models),
      rpmLimit: orLeftOut(limit),
      tpmLimit: orLeftOut(limit),
      expiresAt: orLeftOut(expiry),
    });
    fc.assert(
      fc.property(creator, request, (parent, asked) => {
        let child;
        try {
          child = deriveKeyFields(parent, asked, { now });
        } catch (error) {
          expect(error).toBeInstanceOf(ForbiddenError);
          return;
        }
        expect(child.scopes.every((scope) => parent.scopes.includes(scope))).toBe(true);
        if (parent.allowedModels !== null)
          expect(child.allowedModels?.every((model) => parent.allowedModels?.includes(model))).toBe(true);
        for (const field of ['rpmLimit', 'tpmLimit'] as const)
          if (parent[field] !== null) expect(child[field] ?? Infinity).toBeLessThanOrEqual(parent[field] ?? 0);
        if (parent.expiresAt !== null)
          expect(child.expiresAt?.getTime() ?? Infinity).toBeLessThanOrEqual(parent.expiresAt.getTime());
      }),
      { seed: 12, numRuns: 500 },
    );
  });
});
