// The admin domain: API keys, price lists, the cluster registry and reconciliation. The API, the
// CLI's admin commands, the gateway (which reads keys, prices and clusters) and the worker use it.
export * from './keys/index';
export * from './clusters/index';
export {
  createPriceListSource,
  listPriceLists,
  loadEffectivePriceList,
  loadNewestPriceList,
  loadPriceListsByVersion,
  priceListPageMax,
  publishPriceList,
  type CurrentPriceList,
  type PriceListEntry,
  type PriceListSource,
} from './price-lists';
export {
  closeAbandonedAdmissions,
  findAbandonedAdmissions,
  reconcileBatchMax,
  type AbandonedAdmission,
  type ReconcileParams,
} from './reconcile';
export {
  clientWriteStallMsDefault,
  holdTimeoutSeconds,
  holdTimeoutSecondsDefault,
  requestTimeoutMsDefault,
} from './request-horizon';
export * from './carbon/index';
export * from './github/index';
export * from './experiments/index';
