import { isDomainError, type DomainErrorCode } from '@tokenwise/core';
import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';

/** The one mapping from domain error codes to tRPC codes; exhaustive, so a new code fails the build. */
export const trpcCodeByDomainCode: Record<DomainErrorCode, TRPC_ERROR_CODE_KEY> = {
  VALIDATION: 'BAD_REQUEST',
  INVALID_AMOUNT: 'BAD_REQUEST',
  AMOUNT_OVERFLOW: 'BAD_REQUEST',
  UNKNOWN_CURRENCY: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  INSUFFICIENT_FUNDS: 'PRECONDITION_FAILED',
  IDEMPOTENCY_CONFLICT: 'CONFLICT',
  LIMIT_EXCEEDED: 'FORBIDDEN',
  CONFIG: 'INTERNAL_SERVER_ERROR',
  QUEUE_FULL: 'TOO_MANY_REQUESTS',
  QUEUE_TIMEOUT: 'TOO_MANY_REQUESTS',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  NO_HEALTHY_REPLICA: 'SERVICE_UNAVAILABLE',
  UNKNOWN_MODEL: 'NOT_FOUND',
  LEDGER_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  LEDGER_OVERLOADED: 'SERVICE_UNAVAILABLE',
  LEDGER_REFUSED: 'BAD_REQUEST',
};

/** A domain error as the TRPCError it becomes at this boundary; anything else is left alone. */
export function toTrpcError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (!isDomainError(cause)) return error;
  const code = trpcCodeByDomainCode[cause.code];
  return new TRPCError({ code, message: cause.message, cause });
}

/** The fields a validation error names: zod issue paths ("limit", "to.id"), from tRPC input or a domain ValidationError. */
export function invalidFields(cause: unknown): string[] {
  const issues = issuesOf(cause);
  const fields = issues
    .map((issue) => (Array.isArray(issue.path) && issue.path.length > 0 ? issue.path.join('.') : undefined))
    .filter((field) => field !== undefined);
  if (fields.length > 0) return [...new Set(fields)];
  if (isDomainError(cause) && Array.isArray(cause.details.issues)) {
    return [
      ...new Set(
        (cause.details.issues as unknown[])
          .filter((issue): issue is string => typeof issue === 'string')
          .map((issue) => issue.split(':')[0] ?? issue),
      ),
    ];
  }
  return [];
}

function issuesOf(cause: unknown): { path?: unknown }[] {
  if (cause === null || typeof cause !== 'object' || !('issues' in cause)) return [];
  const issues = (cause as { issues: unknown }).issues;
  return Array.isArray(issues) ? (issues as { path?: unknown }[]) : [];
}
