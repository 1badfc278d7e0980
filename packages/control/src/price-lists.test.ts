import { createOrg } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  createPriceListSource,
  listPriceLists,
  loadEffectivePriceList,
  loadNewestPriceList,
  publishPriceList,
} from './price-lists';
import { testPriceList } from './test-kit';

const labelled = (version: string) => ({ ...testPriceList(), version });

describeEachBackend('price lists per org', (database) => {
  const newOrg = async () =>
    (await createOrg(database().db, { actor: 'test', input: { slug: `o-${randomUUID().slice(0, 8)}`, name: 'Org' } }))
      .id;

  it('concurrent publishes get distinct versions from one sequence across orgs', async () => {
    const db = database().db;
    const [a, b] = [await newOrg(), await newOrg()];
    const published = await Promise.all([
      publishPriceList(db, { body: labelled('d'), actor: 'system:test' }),
      publishPriceList(db, { body: labelled('a'), actor: 'test', orgId: a }),
      publishPriceList(db, { body: labelled('b'), actor: 'test', orgId: b }),
      publishPriceList(db, { body: labelled('a2'), actor: 'test', orgId: a }),
    ]);
    expect(new Set(published.map((entry) => entry.version)).size).toBe(4);
    expect((await loadEffectivePriceList(db, { orgId: a }))?.list.version).toMatch(/^a2?$/);
    expect((await loadEffectivePriceList(db, { orgId: await newOrg() }))?.list.version).toBe(
      (await loadNewestPriceList(db))?.list.version,
    );
    expect(
      (await listPriceLists(db, { orgId: b, limit: 100 })).every((row) => row.orgId === b || row.orgId === null),
    ).toBe(true);
  });

  it('the gateway source serves each org its list from memory and picks up a new one within its refresh interval', async () => {
    const db = database().db;
    const org = await newOrg();
    const elsewhere = await newOrg();
    const source = createPriceListSource(db, 100);
    const fallback = await source.current(org);
    expect(fallback.orgId).toBeNull();
    const own = await publishPriceList(db, { body: labelled('own-1'), actor: 'test', orgId: org });
    let seen = await source.current(org);
    for (let attempt = 0; attempt < 100 && seen.version !== own.version; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await source.current(org);
    }
    expect(seen).toMatchObject({ version: own.version, orgId: org, list: { version: 'own-1' } });
    expect((await source.current(elsewhere)).orgId).toBeNull();
    source.close();
  });
});
