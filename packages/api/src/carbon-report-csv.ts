import type { CarbonReportRow } from './carbon-report';

/** The CSV columns, units in their names, in the order every report lists them. */
export const carbonReportCsvHeader = [
  'key',
  'label',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'energy_kwh',
  'operational_gco2e',
  'embodied_gco2e',
  'total_gco2e',
  'gco2e_per_1k_tokens',
  'gco2e_per_value',
] as const;

/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection), or hide one. */
const formulaStart = /^[=+\-@\t\r]/;

/**
 * One text cell: a leading apostrophe when a spreadsheet would take it for a formula (labels are
 * tenant data: a team slug or model name may start with `=`), then RFC 4180 quoting when it holds
 * a comma, a quote or a line break.
 */
export function csvTextCell(value: string): string {
  const safe = formulaStart.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A number as plain decimals (never `1e-7`), at most `decimals` of them, trailing zeros dropped; empty for null. */
export function csvNumberCell(value: number | null, decimals: number): string {
  if (value === null) return '';
  const fixed = value.toFixed(decimals);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** An emission report as CSV (RFC 4180: CRLF line ends, a header row); empty cells for null ratios. */
export function carbonReportCsv(rows: readonly CarbonReportRow[]): string {
  const lines = [carbonReportCsvHeader.join(',')];
  for (const row of rows) {
    lines.push(
      [
        csvTextCell(row.key),
        csvTextCell(row.label),
        String(row.requests),
        String(row.promptTokens),
        String(row.completionTokens),
        csvNumberCell(row.energyKwh, 9),
        csvNumberCell(row.operationalGrams, 6),
        csvNumberCell(row.embodiedGrams, 6),
        csvNumberCell(row.totalGrams, 6),
        csvNumberCell(row.gramsPer1kTokens, 6),
        csvNumberCell(row.gramsPerValue, 6),
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
