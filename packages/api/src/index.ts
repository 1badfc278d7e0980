export { createApiClient, type ApiClient } from './client';
export {
  createContextFactory,
  createContextInner,
  type ApiDeps,
  type ApiUser,
  type Context,
  type PluginRegistry,
} from './context';
export { trpcCodeByDomainCode } from './errors';
export { appRouter, createCaller, type AppRouter } from './router';
export { bodyBytesMax } from './limits';
export { startApiServer, type RunningApiServer } from './server';
export {
  carbonReport,
  carbonReportDaysMax,
  carbonReportInput,
  type CarbonReportInput,
  type CarbonReportRow,
} from './carbon-report';
export { carbonReportCsv } from './carbon-report-csv';
export { carbonReportCsvPath } from './carbon-report-download';
