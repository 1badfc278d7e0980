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
  override readonly name: string = 'ConflictError';
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

// The request path's refusals: the gateway maps each to an HTTP status and OpenAI's error JSON.

/** The model's queue holds `queueDepthMax` waiters already: refused at once (HTTP 429). */
export class QueueFullError extends DomainError {
  readonly code = 'QUEUE_FULL' as const;
  override readonly name = 'QueueFullError';
  readonly retryAfterSeconds: number;

  constructor(params: { model: string; depth: number; retryAfterSeconds: number }) {
    super(
      `The queue for model "${params.model}" is full (${params.depth} requests waiting). Retry after ${params.retryAfterSeconds} s, or send fewer requests at once.`,
      params,
    );
    this.retryAfterSeconds = params.retryAfterSeconds;
  }
}

/** The request waited `queueWaitMsMax` without a free slot and left the queue (HTTP 429). */
export class QueueTimeoutError extends DomainError {
  readonly code = 'QUEUE_TIMEOUT' as const;
  override readonly name = 'QueueTimeoutError';
  readonly retryAfterSeconds: number;

  constructor(params: { model: string; waitedMs: number; retryAfterSeconds: number }) {
    super(
      `No slot for model "${params.model}" became free within ${params.waitedMs} ms; the cluster is saturated or unhealthy. Retry after ${params.retryAfterSeconds} s.`,
      params,
    );
    this.retryAfterSeconds = params.retryAfterSeconds;
  }
}

/** No replica can serve the request: all excluded after failures, or the gateway is shutting down (HTTP 503). */
export class NoHealthyReplicaError extends DomainError {
  readonly code = 'NO_HEALTHY_REPLICA' as const;
  override readonly name = 'NoHealthyReplicaError';
}

/** The requested model is served by no configured cluster (HTTP 404). */
export class UnknownModelError extends DomainError {
  readonly code = 'UNKNOWN_MODEL' as const;
  override readonly name = 'UnknownModelError';

  constructor(model: string, servedModels: readonly string[]) {
    super(
      `The model "${model}" is not served here. Use one of: ${servedModels.join(', ')} (GET /v1/models lists them).`,
      { model, servedModels: [...servedModels] },
    );
  }
}

/** A key's requests-per-minute or tokens-per-minute limit is reached: retry after `retryAfterSeconds`. */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED' as const;
  override readonly name = 'RateLimitedError';
  readonly retryAfterSeconds: number;

  constructor(
    message: string,
    details: { keyId: string; limit: 'rpm' | 'tpm'; limitValue: number; retryAfterSeconds: number },
  ) {
    super(message, details);
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

// The ledger's refusals.

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

/** Evidence for a settlement that is no longer running: it was not (and will not be) used. */
export class SettlementClosedError extends ConflictError {
  override readonly name = 'SettlementClosedError';
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
  | ConfigError['code']
  | QueueFullError['code']
  | QueueTimeoutError['code']
  | NoHealthyReplicaError['code']
  | UnknownModelError['code']
  | RateLimitedError['code']
  | LedgerUnavailableError['code']
  | LedgerOverloadedError['code']
  | LedgerRefusedError['code'];

/** Every domain error class; `isDomainError` narrows to it, so a boundary's `switch (error.code)` is checked by the compiler. */
export type KnownDomainError =
  | ValidationError
  | InvalidAmountError
  | AmountOverflowError
  | UnknownCurrencyError
  | NotFoundError
  | ConflictError
  | ForbiddenError
  | UnauthenticatedError
  | InsufficientFundsError
  | IdempotencyConflictError
  | LimitExceededError
  | ConfigError
  | QueueFullError
  | QueueTimeoutError
  | NoHealthyReplicaError
  | UnknownModelError
  | RateLimitedError
  | LedgerUnavailableError
  | LedgerOverloadedError
  | LedgerRefusedError;

/** True for any domain error; every subclass lives in this file, so the narrowing is exact. */
export function isDomainError(error: unknown): error is KnownDomainError {
  return error instanceof DomainError;
}
