import { isDomainError } from '@tokenwise/core';
import type { ServerResponse } from 'node:http';

/** OpenAI's error body: what every client library (and vLLM) understands. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error the gateway answers with: HTTP status, OpenAI error JSON and extra headers. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new GatewayError(400, message, 'invalid_request_error', 'invalid_request', param);

/** Maps any error to what the client sees; unknown errors never leak their message. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isDomainError(error)) {
    const retryAfter = 'retryAfterSeconds' in error ? error.retryAfterSeconds : undefined;
    const noRetry = { 'x-should-retry': 'false' };
    switch (error.code) {
      case 'UNAUTHENTICATED':
        return new GatewayError(401, error.message, 'authentication_error', 'invalid_api_key');
      case 'FORBIDDEN':
        return new GatewayError(403, error.message, 'permission_error', 'forbidden');
      case 'NOT_FOUND':
      case 'UNKNOWN_MODEL':
        return new GatewayError(404, error.message, 'invalid_request_error', 'model_not_found', 'model');
      case 'VALIDATION':
      case 'INVALID_AMOUNT':
      case 'AMOUNT_OVERFLOW':
      case 'UNKNOWN_CURRENCY':
      case 'CONFLICT':
      case 'IDEMPOTENCY_CONFLICT':
      case 'LIMIT_EXCEEDED':
      case 'CONFIG':
        return badRequest(error.message);
      case 'INSUFFICIENT_FUNDS':
        return new GatewayError(402, error.message, 'insufficient_quota', 'insufficient_tokens', null, noRetry);
      case 'RATE_LIMITED':
      case 'QUEUE_FULL':
      case 'QUEUE_TIMEOUT':
        return new GatewayError(429, error.message, 'rate_limit_exceeded', error.code.toLowerCase(), null, {
          'retry-after': String(retryAfter ?? 1),
        });
      case 'NO_HEALTHY_REPLICA':
        return new GatewayError(503, error.message, 'service_unavailable', 'no_healthy_replica', null, {
          'retry-after': '2',
        });
      case 'LEDGER_UNAVAILABLE':
      case 'LEDGER_OVERLOADED':
        return new GatewayError(503, error.message, 'service_unavailable', error.code.toLowerCase(), null, {
          'retry-after': '1',
        });
      case 'LEDGER_REFUSED':
        return new GatewayError(400, error.message, 'invalid_request_error', 'ledger_refused', null, noRetry);
      default: {
        // Every code is handled above: a new domain error fails the build here until it is mapped.
        const unmapped: never = error;
        return unmapped;
      }
    }
  }
  return new GatewayError(
    500,
    'The gateway failed to handle this request; it was not charged. Retry, and report the x-request-id if it persists.',
    'server_error',
    'internal_error',
  );
}

/** Answers with `error` as OpenAI's error JSON. */
export function sendError(res: ServerResponse, error: GatewayError, requestId: string): void {
  res.writeHead(error.status, { 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers });
  res.end(JSON.stringify(error.body()));
}
