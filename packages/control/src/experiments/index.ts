export {
  createExperimentsServiceKey,
  experimentsScope,
  experimentsSystemOwner,
  experimentsWebhookKey,
  experimentsWebhookSecret,
  webhookSecretPrefix,
  type CreateExperimentsServiceKeyParams,
} from './service-keys';
export {
  assignmentsMax,
  submitExperimentResults,
  submitResultsInput,
  type ExperimentsService,
  type SubmitResultsInput,
  type SubmitResultsOutcome,
} from './submit-results';
