export * from './amount';
export * from './bounded-map';
export * from './codec';
export * from './currency';
export * from './errors';
export * from './invariant';
export * from './schemas';
export * from './period';
export * from './grant-bounds';
export * from './transfer-ids';
export * from './pricing/exact';
export * from './pricing/price-list';
export * from './pricing/cost';
export * from './pricing/prompt-bound';
export * from './pricing/admission-estimate';
export * from './carbon/coefficients';
export * from './carbon/request-emissions';
export * from './parse-with';
export * from './settlement/policy';
export * from './storable';
export * from './carbon/carbon-budget';
export * from './winnowing';
export * from './experiments/metric-summary';
export * from './experiments/comparison';
export * from './experiments/frequentist';
export * from './experiments/bayesian';
export * from './experiments/sample-ratio-mismatch';
export * from './experiments/ab-evidence';
export {
  normalCdf,
  normalSf,
  normalQuantile,
  studentTCdf,
  studentTSf,
  studentTQuantile,
  chiSquareSf,
} from './experiments/numerics/distributions';
export * from './request-tags';
export * from './commit-trailers';
