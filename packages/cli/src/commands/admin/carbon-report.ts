import { carbonReport, carbonReportCsv, carbonReportInput, type CarbonReportRow } from '@tokenwise/api';
import { ValidationError } from '@tokenwise/core';
import { carbonReportGroupings } from '@tokenwise/db';
import type { AdminCommandSpecs } from './admin-command';
import { orgOf, orgOption } from './lookups';
import { text } from './option-values';

function tableLine(row: CarbonReportRow): string {
  const perValue = row.gramsPerValue === null ? '-' : `${row.gramsPerValue} g/value`;
  const per1k = row.gramsPer1kTokens === null ? '-' : `${row.gramsPer1kTokens} g/1k tokens`;
  return `${row.label}  ${row.requests} requests  ${row.promptTokens} in / ${row.completionTokens} out  ${row.energyKwh} kWh  ${row.operationalGrams} + ${row.embodiedGrams} = ${row.totalGrams} gCO2e  ${per1k}  ${perValue}`;
}

/** `carbon report`: an org's emissions over [from, to), as the ESG officer's report shows them. */
export const carbonReportCommands: AdminCommandSpecs = {
  'carbon report': {
    summary: "emissions by team, user, model, cluster or day, as an ESG officer files them (the org's whole usage)",
    options: [
      orgOption,
      { name: 'from', value: 'date', required: true, description: "first day, YYYY-MM-DD in the org's time zone" },
      { name: 'to', value: 'date', required: true, description: 'day after the last, YYYY-MM-DD (exclusive)' },
      {
        name: 'group-by',
        value: 'grouping',
        required: true,
        description: `one of ${carbonReportGroupings.join(', ')}`,
      },
      { name: 'csv', description: 'print CSV (units in the header) instead of a table' },
    ],
    async run({ database }, options) {
      const org = await orgOf(database.db, options);
      const parsed = carbonReportInput.safeParse({
        from: text(options, 'from'),
        to: text(options, 'to'),
        groupBy: text(options, 'group-by'),
      });
      if (!parsed.success) {
        const message = parsed.error.issues.map((issue) => issue.message.replace(/^groupBy/, '--group-by')).join('; ');
        throw new ValidationError(`${message}.`);
      }
      const input = parsed.data;
      const rows = await carbonReport(database.db, { orgId: org.id, scope: { orgId: org.id }, input });
      // The CLI ends its output with "\n": dropping the CSV's last "\n" keeps every line end CRLF.
      if (options.csv === true) return { text: carbonReportCsv(rows).slice(0, -1), data: rows };
      const title = `Emissions of org ${org.slug} by ${input.groupBy}, ${input.from} to ${input.to} (exclusive, ${org.timeZone}):`;
      return { text: `${title}\n  ${rows.length === 0 ? '(no usage)' : rows.map(tableLine).join('\n  ')}`, data: rows };
    },
  },
};
