import { executeRows, pgArray } from '@tokenwise/db';
import { describeEachBackend } from '@tokenwise/db/testing';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect, it } from 'vitest';

// Text PostgreSQL can hold: anything but NUL.
const element = fc.option(
  fc.oneof(
    fc.string({ unit: 'binary' }).map((text) => text.replaceAll('\0', '')),
    fc.constantFrom('NULL', 'null', '"', '\\', '\\"', '{}', ',', ' padded ', '{"a","b"}', ''),
  ),
  { nil: null },
);

describeEachBackend('pgArray', (database) => {
  it('every element comes back as sent: quotes, backslashes, braces, commas, the word NULL and real NULLs', async () => {
    const { db } = database();
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 20 }), async (values) => {
        const rows = await executeRows<{ value: string | null }>(
          db,
          sql`select u.value from unnest(${pgArray(values)}::text[]) with ordinality as u(value, n) order by u.n`,
        );
        expect(rows.map((row) => row.value)).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });

  it('bigints keep every digit', async () => {
    const { db } = database();
    const values = [9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n, 0n, null];
    const rows = await executeRows<{ value: string | null }>(
      db,
      sql`select u.value::text as value from unnest(${pgArray(values)}::bigint[]) with ordinality as u(value, n) order by u.n`,
    );
    expect(rows.map((row) => (row.value === null ? null : BigInt(row.value)))).toEqual(values);
  });
});
