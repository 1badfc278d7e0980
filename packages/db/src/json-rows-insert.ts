import { jsonString } from '@tokenwise/core';
import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import { toSnakeCase } from 'drizzle-orm/casing';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

interface ColumnPlan {
  key: string;
  /** The column name, JSON-quoted, as a key of the rows document. */
  jsonKey: string;
  quotedName: string;
  sqlType: string;
  column: PgColumn;
  /** jsonb columns carry their driver text (already JSON) into the document as is. */
  json: boolean;
}

const plans = new WeakMap<PgTable, Map<string, ColumnPlan>>();

function planOf(table: PgTable): Map<string, ColumnPlan> {
  let plan = plans.get(table);
  if (plan !== undefined) return plan;
  plan = new Map();
  for (const [key, column] of Object.entries(getTableColumns(table)) as [string, PgColumn][]) {
    const sqlType = column.getSQLType();
    // The database is opened with snake_case casing: a column named by its key is stored snake_cased.
    const name = column.keyAsName ? toSnakeCase(column.name) : column.name;
    plan.set(key, {
      key,
      jsonKey: JSON.stringify(name),
      quotedName: `"${name.replace(/"/g, '""')}"`,
      sqlType,
      column,
      json: sqlType === 'jsonb' || sqlType === 'json',
    });
  }
  plans.set(table, plan);
  return plan;
}

/**
 * `INSERT ... ON CONFLICT DO NOTHING` of many rows, each statement with ONE bound parameter: the
 * rows travel as a jsonb document read back with `jsonb_to_recordset`, typed by the table's own
 * column types. Drizzle's insert builder makes a parameter (and several objects) per value, which
 * costs more CPU than the database spends inserting; this is for hot paths that insert rows of
 * several tables in one statement. Column names follow the snake_case casing the database is
 * opened with; values go through each column's driver mapping, as drizzle's would. A column a row
 * leaves out gets its default, so rows are grouped by the columns they set: one statement per
 * group (one, for rows built by the same code). Still fully parameterised: nothing is interpolated.
 */
export function jsonRowsInserts(table: PgTable, rows: readonly Record<string, unknown>[]): SQL[] {
  const plan = planOf(table);
  const groups = new Map<string, { columns: ColumnPlan[]; rows: Record<string, unknown>[] }>();
  for (const row of rows) {
    const columns: ColumnPlan[] = [];
    for (const key of Object.keys(row)) {
      if (row[key] === undefined) continue;
      const column = plan.get(key);
      if (column === undefined) throw new Error(`${getTableName(table)} has no column "${key}".`);
      columns.push(column);
    }
    const signature = columns.map((column) => column.key).join(',');
    const group = groups.get(signature);
    if (group === undefined) groups.set(signature, { columns, rows: [row] });
    else group.rows.push(row);
  }
  const target = `"${getTableName(table).replace(/"/g, '""')}"`;
  return [...groups.values()].map(({ columns, rows: members }) => {
    const documents = members.map((row) => {
      const fields: string[] = [];
      for (const column of columns) {
        const value = row[column.key];
        if (value === null) continue;
        const driver = column.column.mapToDriverValue(value) as unknown;
        fields.push(
          `${column.jsonKey}:${
            typeof driver === 'string'
              ? column.json
                ? driver
                : jsonString(driver)
              : JSON.stringify(typeof driver === 'bigint' ? driver.toString() : driver)
          }`,
        );
      }
      return `{${fields.join(',')}}`;
    });
    const names = columns.map((column) => column.quotedName).join(', ');
    const types = columns.map((column) => `${column.quotedName} ${column.sqlType}`).join(', ');
    return sql`insert into ${sql.raw(target)} (${sql.raw(names)}) select ${sql.raw(names)} from jsonb_to_recordset(${`[${documents.join(',')}]`}::jsonb) as r(${sql.raw(types)}) on conflict do nothing`;
  });
}
