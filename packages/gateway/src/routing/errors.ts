import { DomainError } from '@tokenwise/core';

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
    super(`The model "${model}" is not served here. Use one of: ${servedModels.join(', ')} (GET /v1/models lists them).`, { model, servedModels: [...servedModels] });
  }
}

/** Every error code the routing layer throws, for exhaustive mapping to HTTP statuses. */
export type RoutingErrorCode = QueueFullError['code'] | QueueTimeoutError['code'] | NoHealthyReplicaError['code'] | UnknownModelError['code'];
