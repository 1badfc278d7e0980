/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) for one bound parameter: a whole batch travels as a
 * few `unnest($n::type[])` parameters instead of thousands, which both drivers bind and the
 * server parses far faster. Every element is quoted and escaped, so any text is safe.
 */
export function pgArray(values: readonly (string | bigint | number | null | undefined)[]): string {
  // One string built in place: the ledger writer sends a dozen of these per batch on the request path.
  let literal = '{';
  for (let index = 0; index < values.length; index++) {
    if (index > 0) literal += ',';
    const value = values[index];
    if (value === null || value === undefined) {
      literal += 'NULL';
      continue;
    }
    const text = typeof value === 'string' ? value : value.toString();
    literal += needsEscape.test(text) ? `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${text}"`;
  }
  return `${literal}}`;
}

const needsEscape = /["\\]/;
