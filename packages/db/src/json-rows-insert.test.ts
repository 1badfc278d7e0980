import { describeEachBackend } from '@tokenwise/db/testing';
import { asc, sql } from 'drizzle-orm';
import { boolean, doublePrecision, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { jsonRowsInserts } from './json-rows-insert';
import { amount, codecJsonb } from './schema/index';

const probe = pgTable('json_rows_probe', {
  id: text().primaryKey(),
  ownerId: uuid(),
  cost: amount().notNull(),
  tokens: integer(),
  grams: doublePrecision(),
  system: boolean().notNull(),
  at: timestamp({ withTimezone: true }),
  tags: text().array(),
  doc: codecJsonb(),
  status: text().notNull().default('open'),
});

describeEachBackend('jsonRowsInserts', (database) => {
  it('inserts what drizzle would, every column type of the attached tables, and skips conflicts', async () => {
    const { db } = database();
    await db.execute(
      sql`create table if not exists json_rows_probe (id text primary key, owner_id uuid, cost bigint not null, tokens integer, grams double precision, system boolean not null, at timestamptz, tags text[], doc jsonb, status text not null default 'open')`,
    );
    const rows = [
      {
        id: 'a',
        ownerId: '0b7c3f0e-7c5e-4a8e-9d36-0a0f3f3b1c11',
        cost: 9_007_199_254_740_993n,
        tokens: 12,
        grams: 0.125,
        system: false,
        at: new Date('2026-11-26T10:00:00.123Z'),
        tags: ['x', 'with "quotes", {braces} and \\'],
        doc: { big: 2n ** 63n - 1n, text: 'ü\n"' },
      },
      { id: 'b', cost: 0n, system: true, status: 'closed' },
    ];
    for (const statement of jsonRowsInserts(probe, rows)) await db.execute(statement);
    // The same ids again: nothing changes, nothing fails.
    for (const statement of jsonRowsInserts(probe, [{ id: 'a', cost: 1n, system: true }])) await db.execute(statement);
    const read = await db.select().from(probe).orderBy(asc(probe.id));
    expect(read).toEqual([
      { ...rows[0], status: 'open' },
      {
        id: 'b',
        ownerId: null,
        cost: 0n,
        tokens: null,
        grams: null,
        system: true,
        at: null,
        tags: null,
        doc: null,
        status: 'closed',
      },
    ]);
  });

  it('round-trips any text exactly', async () => {
    const { db } = database();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((value) => !value.includes('\u0000')),
        async (value) => {
          const id = `t-${Math.random()}`;
          for (const statement of jsonRowsInserts(probe, [
            { id, cost: 1n, system: false, tags: [value], doc: { value } },
          ]))
            await db.execute(statement);
          const [row] = await db
            .select({ tags: probe.tags, doc: probe.doc })
            .from(probe)
            .where(sql`${probe.id} = ${id}`);
          expect(row).toEqual({ tags: [value], doc: { value } });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('names a key that is not a column of the table', () => {
    expect(() => jsonRowsInserts(probe, [{ id: 'x', costt: 1n }])).toThrow('json_rows_probe has no column "costt".');
  });
});
