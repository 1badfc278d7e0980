import { ValidationError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type PluginSpec, definePlugin, parsePluginConfig } from './define-plugin';
import { SDK_VERSION } from './version';

const spec = (overrides: Partial<Record<keyof PluginSpec<unknown>, unknown>> = {}): PluginSpec<{ threshold: number }> =>
  ({
    id: 'commit-landed',
    version: '1.2.3',
    configSchema: z.object({ threshold: z.number().min(0).max(1) }),
    score: () => Promise.resolve({ status: 'pending', reason: 'waiting' }),
    ...overrides,
  }) as PluginSpec<{ threshold: number }>;

describe('definePlugin', () => {
  it('returns a frozen definition with defaults filled', () => {
    const plugin = definePlugin(spec());
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(plugin).toMatchObject({
      id: 'commit-landed',
      version: '1.2.3',
      sdkVersion: SDK_VERSION,
      evidenceWindowSeconds: 0,
      pollIntervalSeconds: 60,
    });
    expect(() => {
      (plugin as { id: string }).id = 'other';
    }).toThrow(TypeError);
  });

  it('keeps an evidence window and poll interval', () => {
    const plugin = definePlugin(
      spec({ evidenceWindowSeconds: 7 * 86_400, pollIntervalSeconds: 3_600, sdkVersion: '1.0.0' }),
    );
    expect(plugin).toMatchObject({ evidenceWindowSeconds: 604_800, pollIntervalSeconds: 3_600 });
  });

  it.each([
    ['id', { id: 'Bad_Id' }, /id: must be 2\.\.64 lowercase/],
    ['id', { id: 'x' }, /id: must be/],
    ['id', { id: '1abc' }, /id: must be/],
    ['version', { version: '1.0' }, /version: must be a semantic version/],
    ['sdkVersion', { sdkVersion: 'latest' }, /sdkVersion: must be a semantic version/],
    ['configSchema', { configSchema: { type: 'object' } }, /configSchema: must be a zod schema/],
    ['score', { score: 'not a function' }, /score: must be a function/],
    ['evidenceWindowSeconds', { evidenceWindowSeconds: -1 }, /evidenceWindowSeconds:/],
    ['evidenceWindowSeconds', { evidenceWindowSeconds: 31 * 86_400 }, /evidenceWindowSeconds:/],
    ['pollIntervalSeconds', { pollIntervalSeconds: 1 }, /pollIntervalSeconds:/],
    [
      'pollIntervalSeconds',
      { evidenceWindowSeconds: 60, pollIntervalSeconds: 120 },
      /pollIntervalSeconds: must not be longer than evidenceWindowSeconds/,
    ],
  ])('refuses a bad %s, naming it', (_field, overrides, message) => {
    expect(() => definePlugin(spec(overrides))).toThrow(ValidationError);
    expect(() => definePlugin(spec(overrides))).toThrow(message);
  });

  it('names the plugin in the error when the id is readable', () => {
    expect(() => definePlugin(spec({ version: 'one' }))).toThrow(/^Invalid plugin "commit-landed": version/);
  });

  it('refuses something that is not an object at all', () => {
    expect(() => definePlugin(null as unknown as PluginSpec<unknown>)).toThrow(/Invalid plugin definition/);
  });
});

describe('parsePluginConfig', () => {
  it('returns the parsed config', () => {
    expect(parsePluginConfig(definePlugin(spec()), { threshold: 0.5 })).toEqual({ threshold: 0.5 });
  });

  it('names the bad field and the plugin', () => {
    expect(() => parsePluginConfig(definePlugin(spec()), { threshold: 2 })).toThrow(
      /Invalid config of plugin "commit-landed": threshold: /,
    );
  });
});
