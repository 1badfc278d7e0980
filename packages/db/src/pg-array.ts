/**
 * A PostgreSQL array literal (`{"a","b",NULL}`) for one bound parameter: a whole batch travels as a
 * few `unnest($n::type[])` parameters instead of thousands, which both drivers bind and the
 * server parses far faster. Every element is quoted and escaped, so any text is safe.
 */
export function pgArray(values: readonly (string | bigint | number | null | undefined)[]): string {
  const parts = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    const text = typeof value === 'string' ? value : value.toString();
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}
