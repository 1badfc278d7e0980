import { abResults } from './ab-results';

export default abResults;
export { abResults, abResultsVersion } from './ab-results';
export {
  abMethods,
  abResultsConfigSchema,
  configuredExperimentsMax,
  evidenceWindowDaysMax,
  experimentConfigFor,
  experimentConfigSchema,
  minUnitsPerVariationDefault,
  type AbMethod,
  type AbResultsConfig,
  type AbResultsConfigInput,
  type ExperimentConfig,
} from './config';
export {
  confidenceExcludingZeroMin,
  confidenceIncludingZeroMax,
  inconclusiveScore,
  intervalConfidence,
  judgeResult,
  type Judgement,
} from './judge-result';
export { selectResult, type IgnoredEvidence, type Selection, type UsableResult } from './select-result';
