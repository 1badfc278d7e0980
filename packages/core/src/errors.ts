/**
 * Domain errors carry a literal `code` so that one place per boundary (tRPC, HTTP, CLI) can map them
 * to its own status codes. The message always says what to fix.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  /** Structured detail safe to show to the caller (never secrets). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.details = details;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION' as const;
  override readonly name = 'ValidationError';
}

export class InvalidAmountError extends DomainError {
  readonly code = 'INVALID_AMOUNT' as const;
  override readonly name = 'InvalidAmountError';
}

export class AmountOverflowError extends DomainError {
  readonly code = 'AMOUNT_OVERFLOW' as const;
  override readonly name = 'AmountOverflowError';
}

export class UnknownCurrencyError extends DomainError {
  readonly code = 'UNKNOWN_CURRENCY' as const;
  override readonly name = 'UnknownCurrencyError';
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
  override readonly name = 'NotFoundError';
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT' as const;
  override readonly name = 'ConflictError';
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN' as const;
  override readonly name = 'ForbiddenError';
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED' as const;
  override readonly name = 'UnauthenticatedError';
}

export class InsufficientFundsError extends DomainError {
  readonly code = 'INSUFFICIENT_FUNDS' as const;
  override readonly name = 'InsufficientFundsError';
}

export class IdempotencyConflictError extends DomainError {
  readonly code = 'IDEMPOTENCY_CONFLICT' as const;
  override readonly name = 'IdempotencyConflictError';
}

/** A configured bound (a grant's size, an org's monthly issuance, a rate) refuses the request; the message names it and what is left. */
export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED' as const;
  override readonly name = 'LimitExceededError';
}

export class ConfigError extends DomainError {
  readonly code = 'CONFIG' as const;
  override readonly name = 'ConfigError';
}

/** Every domain error code, for exhaustive mapping at the boundaries. */
export type DomainErrorCode =
  | ValidationError['code']
  | InvalidAmountError['code']
  | AmountOverflowError['code']
  | UnknownCurrencyError['code']
  | NotFoundError['code']
  | ConflictError['code']
  | ForbiddenError['code']
  | UnauthenticatedError['code']
  | InsufficientFundsError['code']
  | IdempotencyConflictError['code']
  | LimitExceededError['code']
  | ConfigError['code'];

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
