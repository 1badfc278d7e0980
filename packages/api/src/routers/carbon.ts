import { router } from '../trpc';
import { carbonCapProcedures } from './carbon-caps';
import { carbonRaiseProcedures } from './carbon-raises';
import { carbonReportProcedures } from './carbon-reports';

/** Green budgets: caps and status, raise requests and decisions, emission reports. */
export const carbonRouter = router({
  ...carbonCapProcedures,
  ...carbonRaiseProcedures,
  ...carbonReportProcedures,
});
