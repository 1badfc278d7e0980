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
