import { findCarbonAwareRouting, findOrgBySlug } from '@tokenwise/db';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { adminCommands, type CommandOptions } from './admin/index';

describe('tokenwise org set-carbon-routing', () => {
  let dir: string;
  let services: Services;
  const run = async (command: string, options: CommandOptions) => {
    const handler = adminCommands[command];
    if (handler === undefined) throw new Error(`no command ${command}`);
    return handler(services, options, 'cli:tester');
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-carbon-routing-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    await run('org create', { slug: 'acme', name: 'Acme' });
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stored = async () => {
    const org = await findOrgBySlug(services.database.db, { slug: 'acme' });
    return findCarbonAwareRouting(services.database.db, { orgId: org?.id ?? '' });
  };

  it('turns the org’s carbon-aware routing off and on, saying what it means', async () => {
    expect(await stored()).toBe(true);
    expect((await run('org set-carbon-routing', { org: 'acme', off: true })).text).toBe(
      'Carbon-aware routing of org acme is off (gateways apply it within a second): every request goes to the least loaded cluster serving its model.',
    );
    expect(await stored()).toBe(false);
    expect((await run('org set-carbon-routing', { org: 'acme', off: true })).text).toMatch(/is off \(unchanged\)/);
    expect((await run('org set-carbon-routing', { org: 'acme', on: true })).data).toMatchObject({
      enabled: true,
      previous: false,
    });
    expect(await stored()).toBe(true);
  });

  it('refuses both or neither of --on and --off, and an unknown org', async () => {
    await expect(run('org set-carbon-routing', { org: 'acme' })).rejects.toThrow(/exactly one of --on or --off/);
    await expect(run('org set-carbon-routing', { org: 'acme', on: true, off: true })).rejects.toThrow(
      /exactly one of --on or --off/,
    );
    await expect(run('org set-carbon-routing', { org: 'nope', on: true })).rejects.toThrow(/No org "nope"/);
    expect(await stored()).toBe(true);
  });
});
