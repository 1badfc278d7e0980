// The ledger's refusals are domain errors, defined with the others in core.
export { LedgerOverloadedError, LedgerRefusedError, LedgerUnavailableError } from '@tokenwise/core';
