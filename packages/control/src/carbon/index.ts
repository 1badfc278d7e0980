export { createBudgetPeriods, periodStartDate, type BudgetPeriod } from './budget-periods';
export { scopeIdOf, setCarbonCap, type SetCarbonCapInput } from './caps';
export { carbonScopeStatus, type CarbonScopeStatus } from './status';
export { budgetFundingOps, fundedBy } from './funding';
export { capKey, loadCarbonSnapshot, type CarbonCapEntry, type CarbonSnapshot } from './snapshot';
