export { createBudgetPeriods, periodStartDate, type BudgetPeriod } from './budget-periods';
export { scopeIdOf, setCarbonCap, type SetCarbonCapInput } from './caps';
export { budgetUse, carbonScopeStatus, type CarbonScopeStatus } from './status';
export { budgetFundingOps, fundedBy } from './funding';
export { capKey, loadCarbonSnapshot, type CarbonCapEntry, type CarbonSnapshot } from './snapshot';
export {
  decideRaise,
  listRaises,
  raiseNoteCharsMax,
  raiseReasonCharsMax,
  raisesVisibleTo,
  raiseView,
  requestRaise,
  type RaiseActor,
} from './raises';
export {
  applyRaiseGrant,
  carbonRaiseTransferCode,
  denyRaiseAtDeadline,
  endRaise,
  ensureRaiseGranted,
  raiseDeadlineDecider,
  type RaiseDeps,
  type RaiseOutcome,
} from './raise-grant';
export {
  checkRaiseUntil,
  describeDuration,
  isoDateIn,
  raiseDeadlineMsDefault,
  raiseDeadlineMsMax,
  raiseDeadlineMsMin,
  raiseEndsAt,
  raiseUntilDaysMax,
} from './raise-dates';
