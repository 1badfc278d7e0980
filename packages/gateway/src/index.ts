export { startGateway, type GatewayOptions, type RunningGateway } from './gateway';
export * from './keys/index';
export {
  createPriceListSource,
  listPriceLists,
  loadEffectivePriceList,
  loadNewestPriceList,
  priceListPageMax,
  publishPriceList,
  type CurrentPriceList,
  type PriceListEntry,
  type PriceListSource,
} from './price-lists';
export * from './routing/index';
export {
  gatewayNodeFlags,
  gatewaySettingsSchema,
  holdTimeoutSeconds,
  ledgerBatchIntervalMs,
  type GatewaySettings,
  type GatewaySettingsInput,
} from './settings';
export {
  closeAbandonedAdmissions,
  findAbandonedAdmissions,
  reconcileBatchMax,
  type AbandonedAdmission,
  type ReconcileParams,
} from './reconcile';
