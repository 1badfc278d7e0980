import { carbonReport, carbonReportInput, reportScopeOf } from '../carbon-report';
import { carbonReportCsv } from '../carbon-report-csv';
import { authedProcedure } from '../trpc';

/**
 * carbon.report and carbon.reportCsv: emissions by team, user, model, cluster or day over [from,
 * to) in the org's time zone. ESG officers and admins see the whole org (system usage such as
 * judge calls included, as key `system`), a lead their team, anyone else themselves.
 */
export const carbonReportProcedures = {
  /** Report rows, grams as JSON numbers (at most 6 decimals). */
  report: authedProcedure
    .input(carbonReportInput)
    .query(({ ctx, input }) => carbonReport(ctx.db, { orgId: ctx.user.orgId, scope: reportScopeOf(ctx.user), input })),

  /** The same report as CSV text, units in the column names; also `GET /carbon/report.csv`. */
  reportCsv: authedProcedure
    .input(carbonReportInput)
    .query(async ({ ctx, input }) =>
      carbonReportCsv(await carbonReport(ctx.db, { orgId: ctx.user.orgId, scope: reportScopeOf(ctx.user), input })),
    ),
};
