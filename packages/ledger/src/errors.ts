import { DomainError } from '@tokenwise/core';

/** The database failed under a batch more often than the writer retries; nothing of it was applied twice. */
export class LedgerUnavailableError extends DomainError {
  readonly code = 'LEDGER_UNAVAILABLE' as const;
  override readonly name = 'LedgerUnavailableError';
}

/** Too many operations are waiting: back off and retry with the same ids. */
export class LedgerOverloadedError extends DomainError {
  readonly code = 'LEDGER_OVERLOADED' as const;
  override readonly name = 'LedgerOverloadedError';
}

/** The database refused an operation for what it carries (a value it cannot store); retrying it fails again. */
export class LedgerRefusedError extends DomainError {
  readonly code = 'LEDGER_REFUSED' as const;
  override readonly name = 'LedgerRefusedError';
}
