export {
  accountPurposes,
  carbonBudgetKey,
  carbonSourceKey,
  consumptionAccount,
  createAccountLookup,
  ensureAccount,
  findAccount,
  findAccountById,
  judgeWalletKey,
  legacyIssuanceAccount,
  orgIssuanceAccount,
  orgIssuanceKey,
  type AccountKey,
  type AccountLookup,
  type AccountPurpose,
} from './accounts';
export type { SealAccountsResult } from './account-seals';
export { readCheckpoint, type Checkpoint } from './checkpoint';
export type { ExportOutcome } from './checkpoint-export';
export { LedgerOverloadedError, LedgerRefusedError, LedgerUnavailableError } from './errors';
export { checkInvariants } from './invariants';
export { applyJudgeBudget, type JudgeBudgetThisMonth } from './judge-budget';
export { createIssuanceMeter, issuedBeforeMonth, type IssuanceMeter, type IssuanceStatus } from './org-issuance';
export { createLedger, type Ledger, type LedgerOptions } from './ledger';
export * from './limits';
export { hmacKeyBytesMin } from './mac';
export { getBalance, getHistory, getTransfer, getTransfers, journalTotals, lastTransferWithCode } from './queries';
export type * from './types';
export { failureCodes } from './types';
export { verifyLedger, type VerifyReport } from './verify';
export type { ChainHead } from './writer';
export { chainLockKey } from './writer';
