import { decideRaise, requestRaise } from '@tokenwise/control';
import { createUser, findOrgBySlug, publishCarbonCap } from '@tokenwise/db';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { openServices, type Services } from '../services';
import { adminCommands, type CommandOptions } from './admin/index';

describe('tokenwise carbon raises', () => {
  let dir: string;
  let services: Services;
  const run = async (command: string, options: CommandOptions) => {
    const handler = adminCommands[command];
    if (handler === undefined) throw new Error(`no command ${command}`);
    return handler(services, options, 'cli:tester');
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tw-carbon-raises-'));
    services = await openServices(loadConfig({ TOKENWISE_DATA_DIR: dir }));
    await run('org create', { slug: 'acme', name: 'Acme' });
  });
  afterAll(async () => {
    await services?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists raises newest first, filtered by state, with grams asked and granted', async () => {
    const db = services.database.db;
    const org = await findOrgBySlug(db, { slug: 'acme' });
    if (org === undefined) throw new Error('no org');
    const person = (email: string, roles: ('employee' | 'esg')[]) =>
      createUser(db, { actor: 'test', input: { orgId: org.id, email, displayName: email, roles } });
    const emma = await person('emma@acme.test', ['employee']);
    const esther = await person('esther@acme.test', ['esg']);
    await publishCarbonCap(db, {
      orgId: org.id,
      scope: 'user',
      scopeId: emma.id,
      period: 'month',
      hardMicrograms: 1_000_000n,
      softPercent: null,
      actor: 'test',
    });
    const asEmma = { userId: emma.id, orgId: org.id, teamId: null, roles: emma.roles };
    const first = await requestRaise(db, asEmma, { scope: 'user', grams: 12.5, reason: 'eval run' });
    await requestRaise(db, asEmma, { scope: 'user', grams: 3, reason: 'demo' });
    await decideRaise(
      { db, ledger: services.ledger },
      { ...asEmma, userId: esther.id, roles: ['esg'] },
      {
        raiseId: first.raiseId,
        decision: 'approve',
        grams: 10,
      },
    );

    const all = await run('carbon raises', { org: 'acme' });
    expect(all.text).toMatch(
      /^Carbon raises of org acme, newest first:\n {2}\S+ {2}\S+ {2}user \S+ {2}3 g asked {2}pending/,
    );
    expect(all.text).toContain('12.5 g asked, granted 10 g  approved (by ');
    const approved = await run('carbon raises', { org: 'acme', state: 'approved' });
    expect(approved.data).toEqual([
      expect.objectContaining({ id: first.raiseId, requestedGrams: 12.5, grantedGrams: 10, state: 'approved' }),
    ]);
    await expect(run('carbon raises', { org: 'acme', state: 'maybe' })).rejects.toThrow(/--state must be one of/);
  });
});
