// Every workflow the worker runs; the worker bundles this file.
export { platformCheck } from './platform/workflows';
export { settleUsage } from './settlement/workflows';
export { reconcileLedger } from './reconcile/workflows';
export { grantAllowances } from './allowances/workflows';
export { carbonRaise } from './carbon-raise/workflows';
